import { nulPathIn } from './text';

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
