import * as core from '@actions/core';
import { main } from './main';
import { post } from './post';
import { STATE_IS_POST } from './state';
import { untrusted } from './untrusted';

// One bundle serves both `main` and `post`: the main step leaves a mark the post step sees.
const isPost = core.getState(STATE_IS_POST) === 'true';
if (!isPost) core.saveState(STATE_IS_POST, 'true');

/** Settles when the step has done its work; a failure fails the step with its message. */
export const done = (isPost ? post() : main()).catch((error: Error) =>
  // A message may quote the backend or an IM; escaping it again changes nothing already escaped.
  core.setFailed(untrusted(error.message)),
);
