import type { z } from 'zod';

/**
 * A form's errors by field name (the issue's first path segment); issues without a path go under ''.
 * A list in `itemLists` is edited an item at a time: its issues go under `list.index.input`
 * (`stages.1.approvers`), or the shorter path the issue has.
 */
export function fieldErrors(
  error: z.ZodError,
  itemLists: string[] = [],
): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const issue of error.issues) {
    const itemised = itemLists.includes(String(issue.path[0]));
    const field = issue.path
      .slice(0, itemised ? 3 : 1)
      .map(String)
      .join('.');
    errors[field] = errors[field]
      ? `${errors[field]}; ${issue.message}`
      : issue.message;
  }
  return errors;
}
