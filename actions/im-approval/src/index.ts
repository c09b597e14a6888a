import * as core from '@actions/core';
import { main } from './main';
import { post } from './post';
import { STATE_IS_POST } from './state';

// One bundle serves both `main` and `post`: the main step leaves a mark the post step sees.
const isPost = core.getState(STATE_IS_POST) === 'true';
if (!isPost) core.saveState(STATE_IS_POST, 'true');

(isPost ? post() : main()).catch((error: Error) => core.setFailed(error.message));
