import { ConflictError } from '@backstage/errors';
import { describeZodError } from '@im-approval/plugin-im-approval-common';
import type { z } from 'zod';

/** Parses what the database holds; anything that no longer validates is named with why. */
export function parseStored<T extends z.ZodType>(
  schema: T,
  value: unknown,
  what: string,
): z.output<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success)
    throw new Error(
      `The stored ${what} is not valid any more: ${describeZodError(parsed.error)}`,
    );
  return parsed.data;
}

export function readOnly(
  kind: 'Integration' | 'Template',
  key: string,
): ConflictError {
  return new ConflictError(
    `${kind} "${key}" comes from app-config and is read-only; change it there`,
  );
}
