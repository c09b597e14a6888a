import { InputError } from '@backstage/errors';
import { describeZodError } from '@im-approval/plugin-im-approval-common';
import type { z } from 'zod';

/** Validates a request part; a failure is a 400 whose message names each bad field. */
export function parseInput<T extends z.ZodType>(
  schema: T,
  value: unknown,
  where: 'body' | 'query' | 'path',
): z.output<T> {
  const result = schema.safeParse(value ?? {});
  if (!result.success)
    throw new InputError(describeZodError(result.error, where));
  return result.data;
}
