import {
  describeRequester,
  type Approval,
} from '@im-approval/plugin-im-approval-common';
import type { ImContextLine } from '@im-approval/plugin-im-approval-node';

/** A commit id as git writes it: only these go into links, and are shortened to 7. */
const COMMIT_SHA = /^[0-9a-f]{7,64}$/i;

const short = (sha: string) => sha.slice(0, 7);

/** An http(s) link made of parts from outside, or undefined when they do not make one. */
function link(text: string | undefined): string | undefined {
  if (!text) return undefined;
  try {
    const url = new URL(text);
    return url.protocol === 'https:' || url.protocol === 'http:'
      ? url.href
      : undefined;
  } catch {
    return undefined;
  }
}

/** A branch as people say it ("main"); tags and other refs as git names them. */
const refName = (ref: string) => ref.replace(/^refs\/heads\//, '');

/** What changes since `previous`, the latest approved request of the same template, repository and environment. */
function changes(approval: Approval, previous: Approval | undefined) {
  const { context } = approval;
  const where = context.environment
    ? `${approval.template} to ${context.environment}`
    : approval.template;
  if (!previous) return { value: `the first approved request of ${where}` };
  const from = previous.context.sha;
  const to = context.sha;
  if (!from || !to || !COMMIT_SHA.test(from) || !COMMIT_SHA.test(to))
    return {
      value: `unknown: the last approved request of ${where} names no commit to compare with`,
    };
  if (from.toLowerCase() === to.toLowerCase())
    return {
      value: `nothing: the same commit as the last approved request of ${where}`,
    };
  const base =
    context.serverUrl && `${context.serverUrl}/${context.repository}`;
  return {
    value: `${short(from)}...${short(to)} since the last approved request of ${where}`,
    url: link(base && `${base}/compare/${from}...${to}`),
  };
}

/**
 * What approvers are told about a request whatever its template maps: who asked, the repository,
 * ref, commit, environment, run, and what changes since the last approved request of the same
 * template, repository and environment. Values are plain text from the run; links only where the
 * parts make an http(s) URL. A template test tells no changes: it deploys nothing.
 */
export function requestContext(
  approval: Approval,
  previous: Approval | undefined,
): ImContextLine[] {
  const { context, requester } = approval;
  const base =
    context.serverUrl && `${context.serverUrl}/${context.repository}`;
  const lines: ImContextLine[] = [];
  const add = ({ url, ...line }: ImContextLine) =>
    lines.push(url ? { ...line, url } : line);
  if (requester)
    add({
      kind: 'requester',
      label: 'Requested by',
      value: describeRequester(requester),
    });
  add({
    kind: 'repository',
    label: 'Repository',
    value: context.repository,
    url: link(base),
  });
  if (context.ref)
    add({ kind: 'ref', label: 'Ref', value: refName(context.ref) });
  if (context.sha) {
    const sha = COMMIT_SHA.test(context.sha) ? context.sha : undefined;
    add({
      kind: 'commit',
      label: 'Commit',
      value: sha ? short(sha) : context.sha,
      url: link(sha && base && `${base}/commit/${sha}`),
    });
  }
  if (context.environment)
    add({
      kind: 'environment',
      label: 'Environment',
      value: context.environment,
    });
  const run = link(context.runUrl);
  if (run) {
    const name = [context.workflow, context.runId && `#${context.runId}`]
      .filter(Boolean)
      .join(' ');
    add({ kind: 'run', label: 'Run', value: name || run, url: run });
  }
  if (!context.test)
    add({ kind: 'changes', label: 'Changes', ...changes(approval, previous) });
  return lines;
}
