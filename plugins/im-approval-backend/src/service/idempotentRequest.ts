import { isDeepStrictEqual } from 'node:util';
import type {
  ApprovalContext,
  ParsedCreateApprovalRequest,
} from '@im-approval/plugin-im-approval-common';
import type { IdempotentRequest } from '../database/ApprovalStore';

/** What a repeat of a create request must say again to get the same approval: all it asked for, and the run it came from. */
export function idempotentRequest(
  request: ParsedCreateApprovalRequest,
  context: ApprovalContext,
): IdempotentRequest {
  const { verified, caller, runUrl, test, ...run } = context;
  // As it will read back from the database: no undefined members.
  return JSON.parse(
    JSON.stringify({
      template: request.template,
      title: request.title ?? null,
      variables: request.variables,
      approvers: request.approvers ?? null,
      timeout: request.timeout ?? null,
      context: run,
    }),
  );
}

/** The fields in which two requests differ, one level into objects: `variables.reason`, `context.ref`, `title`. */
export function differences(
  stored: IdempotentRequest,
  repeated: IdempotentRequest,
): string[] {
  const differing: string[] = [];
  for (const field of new Set([
    ...Object.keys(stored),
    ...Object.keys(repeated),
  ])) {
    const [before, after] = [stored[field], repeated[field]];
    if (isDeepStrictEqual(before, after)) continue;
    if (isRecord(before) && isRecord(after)) {
      for (const key of new Set([
        ...Object.keys(before),
        ...Object.keys(after),
      ])) {
        if (!isDeepStrictEqual(before[key], after[key]))
          differing.push(`${field}.${key}`);
      }
    } else {
      differing.push(field);
    }
  }
  return differing.sort();
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
