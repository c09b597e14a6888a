import { NotAllowedError } from '@backstage/errors';
import type {
  ApprovalContext,
  Template,
} from '@im-approval/plugin-im-approval-common';
import { Minimatch } from 'minimatch';

/** Patterns compiled at most; templates hold a few each, so this bounds only a flood of edits. */
const MAX_COMPILED = 1_000;
/** Each template's patterns are parsed once, not on every approval it opens. */
const compiled = new Map<string, Minimatch>();

function matcher(pattern: string): Minimatch {
  let glob = compiled.get(pattern);
  if (!glob) {
    if (compiled.size >= MAX_COMPILED) compiled.clear();
    glob = new Minimatch(pattern, { nocase: true, dot: true });
    compiled.set(pattern, glob);
  }
  return glob;
}

/** Whether a value matches one of the glob patterns, without case; no patterns means no restriction. */
export function allowed(
  patterns: string[] | undefined,
  value: string | undefined,
): boolean {
  if (!patterns) return true;
  return (
    value !== undefined &&
    patterns.some(pattern => matcher(pattern).match(value))
  );
}

/** Throws a 403 naming the first restriction of the template that the run context fails. */
export function checkPolicy(
  template: Template,
  context: ApprovalContext,
): void {
  const { policy } = template;
  const source = context.verified ? 'verified' : 'self-reported';
  const checks: Array<[string, string[] | undefined, string | undefined]> = [
    ['repository', policy.repositories, context.repository],
    ['ref', policy.refs, context.ref],
    ['environment', policy.environments, context.environment],
  ];
  for (const [name, patterns, value] of checks) {
    if (!allowed(patterns, value)) {
      throw new NotAllowedError(
        `Template "${template.name}" does not allow ${name} ${value === undefined ? '(none)' : `"${value}"`} ` +
          `(${source}); allowed: ${patterns!.join(', ')}`,
      );
    }
  }
}
