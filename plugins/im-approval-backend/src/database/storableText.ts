import { createHash } from 'node:crypto';

/**
 * PostgreSQL text cannot hold U+0000, and a lone surrogate reaches either database as U+FFFD. Callers'
 * NUL is refused before it gets here; text from an IM (a comment, a name, an event id) is made
 * storable instead, since refusing it would strand the decision. What is stored is what is compared.
 */
export function storable(text: string): string;
export function storable(text: string | null | undefined): string | null;
export function storable(text: string | null | undefined): string | null {
  if (text === null || text === undefined) return null;
  const wellFormed = text.toWellFormed();
  return wellFormed.includes('\u0000')
    ? wellFormed.replaceAll('\u0000', '\uFFFD')
    : wellFormed;
}

const MAX_KEY_LENGTH = 255;

/** A key for a varchar(255) column: kept as is when it fits, otherwise its SHA-256 (still unique, still comparable). */
export function boundedKey(key: string): string {
  const text = storable(key);
  return text.length <= MAX_KEY_LENGTH
    ? text
    : `sha256:${createHash('sha256').update(text).digest('hex')}`;
}
