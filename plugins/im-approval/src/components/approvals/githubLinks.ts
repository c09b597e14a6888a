import type { ApprovalContext } from '@im-approval/plugin-im-approval-common';
import { httpUrl } from '../shared/httpUrl';

/** Where a run's repository, ref and commit are on its GitHub server; absent where no safe link exists. */
export interface GithubLinks {
  server?: string;
  repository?: string;
  ref?: string;
  commit?: string;
  run?: string;
}

const isPathSegment = (segment: string | undefined): segment is string =>
  Boolean(segment) && segment !== '.' && segment !== '..';

const path = (...segments: string[]) =>
  segments.map(encodeURIComponent).join('/');

/**
 * Links built from the run's context. Every part may be text a caller reported, so the server must
 * be http(s), each path segment is encoded, and a ref with `.` or `..` segments (which git refuses, and
 * a browser would resolve out of the repository) gets no link.
 */
export function githubLinks(context: ApprovalContext): GithubLinks {
  const server = httpUrl(context.serverUrl)?.replace(/\/+$/, '');
  if (!server) return {};
  const [owner, name, ...rest] = context.repository.split('/');
  if (rest.length > 0 || !isPathSegment(owner) || !isPathSegment(name))
    return { server };
  const repository = `${server}/${path(owner, name)}`;
  return {
    server,
    repository,
    ref: context.ref ? refLink(repository, context.ref) : undefined,
    commit:
      context.sha && /^[0-9a-f]{7,64}$/i.test(context.sha)
        ? `${repository}/commit/${context.sha}`
        : undefined,
    run: runLink(repository, context),
  };
}

function refLink(repository: string, ref: string): string | undefined {
  const pull = /^refs\/pull\/(\d+)\/(?:merge|head)$/.exec(ref);
  if (pull) return `${repository}/pull/${pull[1]}`;
  const named = /^refs\/(?:heads|tags)\/(.+)$/.exec(ref);
  const segments = named?.[1].split('/');
  if (!segments || !segments.every(isPathSegment)) return undefined;
  return `${repository}/tree/${path(...segments)}`;
}

/** The run (and its attempt) by number: a self-reported id that is not one gets no link. */
function runLink(repository: string, context: ApprovalContext) {
  if (!context.runId || !/^\d+$/.test(context.runId)) return undefined;
  const run = `${repository}/actions/runs/${context.runId}`;
  return context.runAttempt && /^\d+$/.test(context.runAttempt)
    ? `${run}/attempts/${context.runAttempt}`
    : run;
}
