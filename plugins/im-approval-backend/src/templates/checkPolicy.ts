import { NotAllowedError } from '@backstage/errors';
import type {
  ApprovalContext,
  Template,
} from '@im-approval/plugin-im-approval-common';
import { minimatch } from 'minimatch';

/** Whether a value matches one of the glob patterns, without case; no patterns means no restriction. */
export function allowed(
  patterns: string[] | undefined,
  value: string | undefined,
): boolean {
  if (!patterns) return true;
  return (
    value !== undefined &&
    patterns.some(pattern =>
      minimatch(value, pattern, { nocase: true, dot: true }),
    )
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
