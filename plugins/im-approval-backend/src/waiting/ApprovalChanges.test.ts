import { mockServices } from '@backstage/backend-test-utils';
import {
  ApprovalChanges,
  approvalVersion,
  type ApprovalChangesOptions,
} from './ApprovalChanges';
import { LocalChangeBus } from './ChangeBus';
import type { Subscription } from './WaiterHub';

/** Started changes in one process, with waiters on approvals `a` and `b`; all closed and stopped after. */
async function withWaiters(
  test: (waiters: {
    changes: ApprovalChanges;
    a: Subscription;
    b: Subscription;
  }) => Promise<void>,
  options?: ApprovalChangesOptions,
  logger = mockServices.logger.mock(),
) {
  const changes = new ApprovalChanges(new LocalChangeBus(), logger, options);
  await changes.start();
  const a = changes.subscribe('a');
  const b = changes.subscribe('b');
  try {
    await test({ changes, a, b });
  } finally {
    a.close();
    b.close();
    await changes.stop();
  }
}

describe('ApprovalChanges', () => {
  it('rechecks nothing without a way to read versions: in one process no notification is lost', async () => {
    await withWaiters(async ({ a }) => {
      await expect(a.next(300)).resolves.toBe('timeout');
    });
  });

  it('wakes at a recheck only the waiters that read another version than the approval has now, and keeps on after a failed one', async () => {
    const current = new Map([
      ['a', { status: 'pending', updatedAt: '2026-12-02T10:00:00.000Z' }],
      ['b', { status: 'pending', updatedAt: '2026-12-02T10:00:00.000Z' }],
    ]);
    const asked: string[][] = [];
    let failing = false;
    const logger = mockServices.logger.mock();
    const recheck = {
      everyMs: 50,
      versions: async (ids: string[]) => {
        asked.push(ids);
        if (failing) throw new Error('database gone');
        return ids.flatMap(id => {
          const version = current.get(id);
          return version ? [{ id, ...version }] : [];
        });
      },
    };
    await withWaiters(
      async ({ a, b }) => {
        a.saw(approvalVersion(current.get('a')!));
        b.saw(approvalVersion(current.get('b')!));
        // Nothing changed: rechecks come and go, nobody wakes.
        await expect(a.next(200)).resolves.toBe('timeout');
        expect(asked.length).toBeGreaterThanOrEqual(2);
        expect([...asked[0]].sort()).toEqual(['a', 'b']);

        // Written elsewhere, its notification lost: the next recheck wakes its waiter alone.
        current.set('b', {
          status: 'approved',
          updatedAt: '2026-12-02T10:05:00.000Z',
        });
        const waitingA = a.next(200);
        await expect(b.next(60_000)).resolves.toBe('changed');
        await expect(waitingA).resolves.toBe('timeout');

        failing = true;
        await new Promise(resolve => setTimeout(resolve, 120));
        expect(logger.warn).toHaveBeenCalledWith(
          expect.stringContaining('database gone'),
        );
        failing = false;
        current.set('a', {
          status: 'rejected',
          updatedAt: '2026-12-02T10:06:00.000Z',
        });
        await expect(a.next(60_000)).resolves.toBe('changed');
      },
      { recheck },
      logger,
    );
  });

  it('wakes only the waiters of an approval announced as changed', async () => {
    await withWaiters(async ({ changes, a, b }) => {
      const waitingB = b.next(100);
      changes.changed('a');
      await expect(a.next(60_000)).resolves.toBe('changed');
      await expect(waitingB).resolves.toBe('timeout');
    });
  });
});
