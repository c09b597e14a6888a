import { z } from 'zod';

/**
 * One line per problem, each naming the field and what was expected, e.g.
 * `body.timeout: expected a duration like 30m, 2h, 1d`.
 *
 * @public
 */
export function describeZodError(error: z.ZodError, where?: string): string {
  return error.issues
    .map(issue => {
      const path = [where, ...issue.path.map(String)].filter(Boolean).join('.');
      return path ? `${path}: ${issue.message}` : issue.message;
    })
    .join('; ');
}
