import { durationSchema, formatDuration, parseDuration } from './duration';

describe('durations', () => {
  it.each([
    ['90s', 90],
    ['30m', 1800],
    ['2h', 7200],
    ['1d', 86400],
    ['1h30m', 5400],
  ])('parses %s', (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds);
    expect(formatDuration(seconds)).toBe(text === '90s' ? '1m30s' : text);
  });

  it.each(['2 hours', '', '10', '1w', '-5m'])(
    'refuses %p with a hint',
    text => {
      const result = durationSchema.safeParse(text);
      expect(result.success).toBe(false);
      expect(result.error?.issues[0].message).toBe(
        'expected a duration like 30m, 2h, 1d',
      );
    },
  );

  it('takes whole positive numbers as seconds', () => {
    expect(durationSchema.parse(45)).toBe(45);
    expect(durationSchema.safeParse(0).success).toBe(false);
    expect(durationSchema.safeParse(1.5).success).toBe(false);
  });
});
