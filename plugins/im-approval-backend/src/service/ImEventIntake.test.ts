import { ImApiError } from '@im-approval/plugin-im-approval-node';
import type { Caller } from '../auth/CallerResolver';
import { INTEGRATION, scriptedCore } from './__testUtils__/scriptedIm';

const caller: Caller = {
  kind: 'github',
  id: 'github:acme/api',
  context: { repository: 'acme/api', environment: 'production', runId: '1' },
};

async function decidedInIm() {
  const core = await scriptedCore();
  const { approval } = await core.service.create(
    { template: 'deploy', idempotencyKey: 'k', variables: {} },
    caller,
  );
  core.im.decide(approval.imInstanceId!, {
    status: 'rejected',
    decidedBy: { id: 'u-bob', name: 'Bob' },
    comment: 'not today',
  });
  return {
    core,
    approval,
    event: (eventId: string) => ({
      eventId,
      instanceId: approval.imInstanceId!,
    }),
  };
}

describe('ImEventIntake', () => {
  it('reads the instance an event names and applies a redelivered event once', async () => {
    const { core, approval, event } = await decidedInIm();
    await core.intake.apply(
      INTEGRATION,
      [event('e1'), event('e1')],
      'callback',
    );
    await core.intake.apply(INTEGRATION, [event('e1')], 'connection');
    await core.intake.settled();
    expect(await core.service.get(approval.id)).toMatchObject({
      status: 'rejected',
      decidedBy: 'Bob',
      decidedById: 'u-bob',
      comment: 'not today',
    });
    expect(core.im.count('readInstance')).toBe(1);
    expect(
      (await core.store.timeline(approval.id)).filter(
        e => e.type === 'rejected',
      ),
    ).toEqual([expect.objectContaining({ source: 'callback', actor: 'Bob' })]);
  });

  it('answers before it reads the IM: a slow instance read does not hold the acknowledgement', async () => {
    const { core, approval, event } = await decidedInIm();
    let release!: () => void;
    const slowRead = core.im.readInstance.bind(core.im);
    core.im.readInstance = async id => {
      await new Promise<void>(r => (release = r));
      return slowRead(id);
    };
    await core.intake.apply(INTEGRATION, [event('e1')], 'callback');
    expect((await core.service.get(approval.id)).status).toBe('pending');
    release();
    await core.intake.settled();
    expect((await core.service.get(approval.id)).status).toBe('rejected');
  });

  it('reads once for a burst of events about one instance (task done, instance done, …)', async () => {
    const { core, event } = await decidedInIm();
    await Promise.all(
      ['task', 'node', 'instance'].map(id =>
        core.intake.apply(INTEGRATION, [event(id)], 'callback'),
      ),
    );
    await core.intake.settled();
    expect(core.im.count('readInstance')).toBe(1);
  });

  it('retries an event whose read failed, from the inbox, though the IM does not redeliver it', async () => {
    const { core, approval, event } = await decidedInIm();
    core.im.failNext('readInstance', new ImApiError('unavailable', 'down'));
    await core.intake.apply(INTEGRATION, [event('e1')], 'callback');
    await core.intake.settled();
    expect((await core.service.get(approval.id)).status).toBe('pending');
    await new Promise(r => setTimeout(r, 1_100)); // the first retry's delay
    expect(await core.intake.sweep()).toBe(1);
    expect((await core.service.get(approval.id)).status).toBe('rejected');
  });

  it('applies an event recorded by a replica that died before processing it', async () => {
    const { core, approval, event } = await decidedInIm();
    await core.inbox.record(
      INTEGRATION.id,
      [event('orphan')],
      'connection',
      -1,
    );
    expect(await core.intake.sweep()).toBe(1);
    expect(await core.service.get(approval.id)).toMatchObject({
      status: 'rejected',
    });
    expect((await core.store.timeline(approval.id)).at(-1)).toMatchObject({
      source: 'connection',
    });
    expect(await core.intake.sweep()).toBe(0);
  });

  it('ignores events for instances it does not know', async () => {
    const core = await scriptedCore();
    await core.intake.apply(
      INTEGRATION,
      [{ eventId: 'e', instanceId: 'someone-elses' }],
      'callback',
    );
    await core.intake.settled();
    expect(core.im.count('readInstance')).toBe(0);
    expect(await core.intake.sweep()).toBe(0);
  });
});
