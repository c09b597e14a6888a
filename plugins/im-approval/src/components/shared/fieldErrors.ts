import type { z } from 'zod';

/** A form's errors by field name (the issue's first path segment); issues without a path go under ''. */
export function fieldErrors(error: z.ZodError): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const issue of error.issues) {
    const field = issue.path.length > 0 ? String(issue.path[0]) : '';
    errors[field] = errors[field]
      ? `${errors[field]}; ${issue.message}`
      : issue.message;
  }
  return errors;
}
