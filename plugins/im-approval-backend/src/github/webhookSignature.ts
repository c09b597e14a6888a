import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Checks `X-Hub-Signature-256` (`sha256=` and the HMAC-SHA256 of the raw body, hex) in constant
 * time; undefined when it holds, otherwise what is wrong with it.
 */
export function webhookSignatureProblem(
  secret: string,
  rawBody: Buffer,
  header: string | undefined,
): string | undefined {
  if (!header) return 'the X-Hub-Signature-256 header is missing';
  const hex = /^sha256=([0-9a-f]{64})$/i.exec(header.trim())?.[1];
  if (!hex) return 'X-Hub-Signature-256 is not "sha256=" and 64 hex digits';
  const expected = createHmac('sha256', secret).update(rawBody).digest();
  return timingSafeEqual(expected, Buffer.from(hex, 'hex'))
    ? undefined
    : 'X-Hub-Signature-256 does not match the body with the configured webhook secret';
}
