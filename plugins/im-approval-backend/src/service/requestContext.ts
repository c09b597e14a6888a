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

/** How this request's commit stands to that of `previous`: not comparable, the same, or a range. */
function comparison(
  approval: Approval,
  previous: Approval | undefined,
):
  | { kind: 'unknown' }
  | { kind: 'same' }
  | { kind: 'range'; from: string; to: string } {
  const from = previous?.context.sha;
  const to = approval.context.sha;
  if (!from || !to || !COMMIT_SHA.test(from) || !COMMIT_SHA.test(to))
    return { kind: 'unknown' };
  if (from.toLowerCase() === to.toLowerCase()) return { kind: 'same' };
  return { kind: 'range', from, to };
}

/**
 * The commits to compare, from the latest approved request of the same template, repository and
 * environment (`previous`) to this one; undefined unless both are commit ids and differ.
 */
export function commitRange(
  approval: Approval,
  previous: Approval | undefined,
): { from: string; to: string } | undefined {
  const compared = comparison(approval, previous);
  return compared.kind === 'range' ? compared : undefined;
}

const plural = (count: number, word: string) =>
  `${count} ${word}${count === 1 ? '' : 's'}`;

/** What changes since `previous`, with how many commits where GitHub told. */
function changes(
  approval: Approval,
  previous: Approval | undefined,
  commits: number | undefined,
) {
  const { context } = approval;
  const where = context.environment
    ? `${approval.template} to ${context.environment}`
    : approval.template;
  if (!previous) return { value: `the first approved request of ${where}` };
  const compared = comparison(approval, previous);
  if (compared.kind === 'unknown')
    return {
      value: `unknown: the last approved request of ${where} names no commit to compare with`,
    };
  if (compared.kind === 'same')
    return {
      value: `nothing: the same commit as the last approved request of ${where}`,
    };
  const { from, to } = compared;
  const base =
    context.serverUrl && `${context.serverUrl}/${context.repository}`;
  const counted =
    commits === undefined ? '' : ` (${plural(commits, 'commit')})`;
  return {
    value: `${short(from)}...${short(to)}${counted} since the last approved request of ${where}`,
    url: link(base && `${base}/compare/${from}...${to}`),
  };
}

/**
 * What approvers are told about a request whatever its template maps: who asked, the repository,
 * ref, commit, environment, run, and what changes since the last approved request of the same
 * template, repository and environment (with how many commits, where the GitHub App counted
 * them). Values are plain text from the run; links only where the parts make an http(s) URL. A
 * template test tells no changes: it deploys nothing.
 */
export function requestContext(
  approval: Approval,
  previous: Approval | undefined,
  commits?: number,
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
    add({
      kind: 'changes',
      label: 'Changes',
      ...changes(approval, previous, commits),
    });
  return lines;
}
