import { nulPathIn, oneLine } from './text';

describe('nulPathIn', () => {
  it('finds the first NUL in a string, a nested value or a key, by its path', () => {
    expect(nulPathIn('fine')).toBeUndefined();
    expect(nulPathIn('a\u0000b')).toEqual([]);
    expect(nulPathIn({ context: { ref: 'main', sha: 'x\u0000' } })).toEqual([
      'context',
      'sha',
    ]);
    expect(nulPathIn({ list: ['ok', 'no\u0000'] })).toEqual(['list', '1']);
    expect(nulPathIn({ 'na\u0000me': 'v' })).toEqual(['na\\0me']);
  });

  it('walks nesting too deep for recursion', () => {
    let deep: unknown = 'x\u0000';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(nulPathIn(deep)).toHaveLength(100_000);
  });
});

describe('oneLine', () => {
  it('turns line breaks, NUL and control characters into spaces and cuts long text', () => {
    expect(oneLine('a\r\nb\u0000c\u2028d\u0085e')).toBe('a b c d e');
    expect(oneLine('\ud800lone')).toBe('\ufffdlone');
    expect(oneLine('𠀀𠀀𠀀𠀀', 3)).toBe('𠀀𠀀…');
    expect(oneLine('abc', 3)).toBe('abc');
  });
});
