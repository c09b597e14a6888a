import { mockServices } from '@backstage/backend-test-utils';
import { ApprovalChanges } from './ApprovalChanges';
import { LocalChangeBus } from './ChangeBus';

describe('ApprovalChanges', () => {
  it('wakes every waiter at each recheck, so a lost notification is made up for, and stops when stopped', async () => {
    const changes = new ApprovalChanges(
      new LocalChangeBus(),
      mockServices.logger.mock(),
      { recheckMs: 50 },
    );
    await changes.start();
    const a = changes.subscribe('a');
    const b = changes.subscribe('b');
    try {
      const started = Date.now();
      // Nobody announced a change: only the recheck can wake them.
      await expect(
        Promise.all([a.next(60_000), b.next(60_000)]),
      ).resolves.toEqual(['changed', 'changed']);
      expect(Date.now() - started).toBeLessThan(1_000);

      await changes.stop();
      await expect(a.next(200)).resolves.toBe('timeout');
    } finally {
      a.close();
      b.close();
      await changes.stop();
    }
  });

  it('wakes at a recheck only the waiters of approvals written since the last one, looking back again after a failed one', async () => {
    const asked: Array<{ ids: string[]; since: number }> = [];
    let answer: () => Promise<string[]> = async () => ['b'];
    const logger = mockServices.logger.mock();
    const changes = new ApprovalChanges(new LocalChangeBus(), logger, {
      recheckMs: 50,
      changedSince: async (ids, since) => {
        asked.push({ ids, since: since.getTime() });
        return answer();
      },
    });
    const startedAt = Date.now();
    await changes.start();
    const a = changes.subscribe('a');
    const b = changes.subscribe('b');
    try {
      const waitingA = a.next(400);
      await expect(b.next(60_000)).resolves.toBe('changed');
      await expect(waitingA).resolves.toBe('timeout');
      expect(asked[0].ids.sort()).toEqual(['a', 'b']);
      // The first looks back from the start, a minute earlier for late commits and clocks behind.
      expect(asked[0].since).toBeLessThanOrEqual(startedAt - 60_000 + 5);

      answer = async () => {
        throw new Error('database gone');
      };
      const failedAt = asked.length;
      await new Promise(resolve => setTimeout(resolve, 150));
      expect(logger.warn).toHaveBeenCalledWith(
        expect.stringContaining('database gone'),
      );
      answer = async () => [];
      await new Promise(resolve => setTimeout(resolve, 150));
      // After a failure the same moment is asked about again; after a success, a later one.
      expect(asked[failedAt + 1].since).toBe(asked[failedAt].since);
      expect(asked[asked.length - 1].since).toBeGreaterThan(
        asked[failedAt].since,
      );
    } finally {
      a.close();
      b.close();
      await changes.stop();
    }
  });

  it('wakes only the waiters of an approval announced as changed', async () => {
    const changes = new ApprovalChanges(
      new LocalChangeBus(),
      mockServices.logger.mock(),
    );
    await changes.start();
    const a = changes.subscribe('a');
    const b = changes.subscribe('b');
    try {
      const waitingB = b.next(100);
      changes.changed('a');
      await expect(a.next(60_000)).resolves.toBe('changed');
      await expect(waitingB).resolves.toBe('timeout');
    } finally {
      a.close();
      b.close();
      await changes.stop();
    }
  });
});
