import { z } from 'zod';

const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86400 } as const;
const DURATION_PATTERN = /^(?:\d+[smhd])+$/;
/** @public */
export const DURATION_HINT = 'a duration like 30m, 2h, 1d';

/**
 * Parses `90s`, `30m`, `2h`, `1d` or `1h30m` into seconds; undefined when the text is not one.
 *
 * @public
 */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (!DURATION_PATTERN.test(trimmed)) return undefined;
  let seconds = 0;
  for (const [, amount, unit] of trimmed.matchAll(/(\d+)([smhd])/g)) {
    seconds += Number(amount) * UNIT_SECONDS[unit as keyof typeof UNIT_SECONDS];
  }
  return seconds;
}

/**
 * Formats seconds the way people write them: `1h30m`, `45s`.
 *
 * @public
 */
export function formatDuration(totalSeconds: number): string {
  let rest = Math.max(0, Math.round(totalSeconds));
  let text = '';
  for (const [unit, size] of [
    ['d', 86400],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    if (rest >= size) {
      text += `${Math.floor(rest / size)}${unit}`;
      rest %= size;
    }
  }
  return text || '0s';
}

/**
 * A duration written as text (`30m`) or as a number of seconds; parses to seconds.
 *
 * @public
 */
export const durationSchema = z
  .union([z.string(), z.number()])
  .transform((value, ctx) => {
    const seconds = typeof value === 'number' ? value : parseDuration(value);
    if (seconds === undefined || !Number.isInteger(seconds) || seconds <= 0) {
      ctx.addIssue({ code: 'custom', message: `expected ${DURATION_HINT}` });
      return z.NEVER;
    }
    return seconds;
  })
  .meta({
    description: `A positive duration: ${DURATION_HINT}, or a number of seconds`,
    examples: ['30m'],
  });
