import { timingSafeEqual } from 'node:crypto';

/**
 * Compares a secret or signature with what a caller sent, in time that does not depend on where they differ.
 *
 * @public
 */
export function safeEqual(expected: string, actual: string): boolean {
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(actual, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}
