import { z } from 'zod';

/** The EncodingAESKey of WXBizMsgCrypt (DingTalk's aes_key, WeCom's EncodingAESKey), as the consoles hand it out. */
export const encodingAesKeySchema = z
  .string()
  .regex(
    /^[A-Za-z0-9+/]{43}$/,
    'must be 43 characters of base64 (A-Z, a-z, 0-9, + and /)',
  );

/** Parses `value` (absent reads as `{}`), or throws `refuse` with a message naming every bad field. */
export function parseOrRefuse<T>(
  schema: z.ZodType<T>,
  value: unknown,
  refuse: (issues: string) => Error,
): T {
  const result = schema.safeParse(value ?? {});
  if (!result.success) throw refuse(describeIssues(result.error));
  return result.data;
}

/** "form[0].value: Invalid input: …; uuid: …" — every message names the field it is about. */
export function describeIssues(error: z.ZodError, root?: string): string {
  return error.issues
    .map(issue => `${fieldPath(issue.path, root) || 'body'}: ${issue.message}`)
    .join('; ');
}

function fieldPath(path: PropertyKey[], root = ''): string {
  return path.reduce<string>((text, segment) => {
    if (typeof segment === 'number') return `${text}[${segment}]`;
    return text ? `${text}.${String(segment)}` : String(segment);
  }, root);
}
