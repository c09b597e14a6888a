import { StatementBatch } from './StatementBatch';

describe('StatementBatch', () => {
  const doubling = () => {
    const runs: number[][] = [];
    const batch = new StatementBatch<number, number>(async inputs => {
      runs.push(inputs);
      return inputs.map(n => n * 2);
    }, 3);
    return { runs, batch };
  };

  it('answers calls of the same turn with one run, each its own output', async () => {
    const { runs, batch } = doubling();
    await expect(
      Promise.all([batch.add(1), batch.add(2), batch.add(3)]),
    ).resolves.toEqual([2, 4, 6]);
    expect(runs).toEqual([[1, 2, 3]]);
  });

  it('starts a run as soon as a batch is full, and the rest in the next', async () => {
    const { runs, batch } = doubling();
    await expect(
      Promise.all([1, 2, 3, 4, 5].map(n => batch.add(n))),
    ).resolves.toEqual([2, 4, 6, 8, 10]);
    expect(runs).toEqual([
      [1, 2, 3],
      [4, 5],
    ]);
  });

  it('runs calls of later turns in later runs', async () => {
    const { runs, batch } = doubling();
    await batch.add(1);
    await batch.add(2);
    expect(runs).toEqual([[1], [2]]);
  });

  it('tries each input alone when a batch fails, so only the refused one fails', async () => {
    const runs: string[][] = [];
    const batch = new StatementBatch<string, string>(async inputs => {
      runs.push(inputs);
      if (inputs.includes('poison')) throw new Error('refused: poison');
      return inputs.map(s => s.toUpperCase());
    }, 10);
    const results = await Promise.allSettled([
      batch.add('a'),
      batch.add('poison'),
      batch.add('b'),
    ]);
    expect(results).toEqual([
      { status: 'fulfilled', value: 'A' },
      { status: 'rejected', reason: new Error('refused: poison') },
      { status: 'fulfilled', value: 'B' },
    ]);
    expect(runs).toEqual([['a', 'poison', 'b'], ['a'], ['poison'], ['b']]);
  });
});
