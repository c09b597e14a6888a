import { ImApiError } from '@im-approval/plugin-im-approval-node';
import type { Caller } from '../auth/CallerResolver';
import { scriptedCore } from './__testUtils__/scriptedIm';

const caller: Caller = {
  kind: 'github',
  id: 'github:acme/api',
  context: { repository: 'acme/api', environment: 'production', runId: '1' },
};

async function pending(
  count: number,
  core: Awaited<ReturnType<typeof scriptedCore>>,
) {
  const approvals = [];
  for (let i = 0; i < count; i++) {
    approvals.push(
      (
        await core.service.create(
          { template: 'deploy', idempotencyKey: `k${i}`, variables: {} },
          caller,
        )
      ).approval,
    );
  }
  return approvals;
}

describe('Reconciler', () => {
  it('finds decisions whose events never came, within its per-integration read budget', async () => {
    const core = await scriptedCore({ readsPerMinute: 120 });
    const approvals = await pending(5, core);
    for (const approval of approvals)
      core.im.decide(approval.imInstanceId!, {
        status: 'approved',
        decidedBy: { id: 'u-alice', name: 'Alice' },
      });
    // 120 reads a minute and a pass every second: 2 reads per pass.
    expect(
      await core.reconciler.reconcile({ batchSize: 100, intervalSeconds: 1 }),
    ).toEqual({ checked: 2, decided: 2 });
    expect(core.im.count('readInstance')).toBe(2);
    expect(
      await core.reconciler.reconcile({ batchSize: 100, intervalSeconds: 60 }),
    ).toEqual({ checked: 3, decided: 3 });
  });

  it("spaces its reads to the IM's per-second limit", async () => {
    const core = await scriptedCore({ readsPerSecond: 2 });
    await pending(5, core);
    expect(
      await core.reconciler.reconcile({ batchSize: 100, intervalSeconds: 60 }),
    ).toMatchObject({ checked: 5 });
    // Reads 3 and 5 each wait for a second's room; reads 1, 2 and 4 do not.
    expect(core.sleeps).toHaveLength(2);
    expect(core.sleeps.every(ms => ms > 0 && ms <= 1000)).toBe(true);
  });

  it('stops the pass when the IM throttles, and reads the rest next time', async () => {
    const core = await scriptedCore();
    await pending(3, core);
    core.im.failNext(
      'readInstance',
      new ImApiError('rate_limited', 'slow down'),
    );
    expect(
      await core.reconciler.reconcile({ batchSize: 100, intervalSeconds: 1 }),
    ).toEqual({ checked: 1, decided: 0 });
    expect(core.im.count('readInstance')).toBe(1);
  });

  it('goes on past an IM that is only unavailable for one approval', async () => {
    const core = await scriptedCore();
    await pending(3, core);
    core.im.failNext(
      'readInstance',
      new ImApiError('unavailable', 'Feishu answered 503'),
    );
    expect(
      await core.reconciler.reconcile({ batchSize: 100, intervalSeconds: 1 }),
    ).toMatchObject({ checked: 3 });
    expect(core.im.count('readInstance')).toBe(3);
  });
});
