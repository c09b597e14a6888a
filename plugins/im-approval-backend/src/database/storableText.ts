import { createHash } from 'node:crypto';

/**
 * PostgreSQL text cannot hold U+0000. Callers' text is refused before it gets here; text from an IM
 * (a comment, a name, an event id) is made storable instead, since refusing it would strand the decision.
 */
export function storable(text: string): string;
export function storable(text: string | null | undefined): string | null;
export function storable(text: string | null | undefined): string | null {
  if (text === null || text === undefined) return null;
  return text.includes('\u0000') ? text.replaceAll('\u0000', '\uFFFD') : text;
}

const MAX_KEY_LENGTH = 255;

/** A key for a varchar(255) column: kept as is when it fits, otherwise its SHA-256 (still unique, still comparable). */
export function boundedKey(key: string): string {
  const text = storable(key);
  return text.length <= MAX_KEY_LENGTH ? text : `sha256:${createHash('sha256').update(text).digest('hex')}`;
}
