import type { z } from 'zod';

/** "form[0].value: Invalid input: …; uuid: …" — every message names the field it is about. */
export function describeIssues(error: z.ZodError, root?: string): string {
  return error.issues.map(issue => `${fieldPath(issue.path, root) || 'body'}: ${issue.message}`).join('; ');
}

function fieldPath(path: PropertyKey[], root = ''): string {
  return path.reduce<string>((text, segment) => {
    if (typeof segment === 'number') return `${text}[${segment}]`;
    return text ? `${text}.${String(segment)}` : String(segment);
  }, root);
}
