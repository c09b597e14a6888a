import { untrusted } from './untrusted';

describe('untrusted', () => {
  it('keeps text on one line: every line break and control character is written as an escape', () => {
    expect(untrusted('ok\n::warning::pwned\r\n::add-mask::x\r::error::y')).toBe(
      'ok\\n::warning::pwned\\r\\n::add-mask::x\\r::error::y',
    );
    expect(untrusted('a\u2028b\u2029c\u0085d\u000be\u000cf')).toBe(
      'a\\u2028b\\u2029c\\u0085d\\u000be\\u000cf',
    );
    expect(untrusted('\u001b[8mhidden\u001b[0m')).toBe(
      '\\u001b[8mhidden\\u001b[0m',
    );
  });

  it('breaks up the older ##[command] form the runner finds anywhere in a line', () => {
    expect(untrusted('fine ##[warning]pwned ###[add-mask]x')).toBe(
      'fine ## [warning]pwned ### [add-mask]x',
    );
  });

  it('escapes a leading :: for text that starts a line', () => {
    expect(untrusted('::warning::pwned')).toBe('\\::warning::pwned');
    expect(untrusted('  ::add-mask::x')).toBe('  \\::add-mask::x');
    expect(untrusted('a::b, IPv6 ::1')).toBe('a::b, IPv6 ::1');
  });

  it('leaves other text as it is, and changes nothing on a second pass', () => {
    for (const text of [
      '发布 checkout 2.3 ✅',
      'tab\tseparated',
      'C:\\deploy',
      '"quoted" & <b>',
    ])
      expect(untrusted(text)).toBe(text);
    const evil = 'ok\n::warning::pwned ##[error]x\u2028::add-mask::y';
    expect(untrusted(untrusted(evil))).toBe(untrusted(evil));
  });
});
