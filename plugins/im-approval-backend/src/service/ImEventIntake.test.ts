import { ImApiError } from '@im-approval/plugin-im-approval-node';
import type { Caller } from '../auth/CallerResolver';
import { INTEGRATION, scriptedCore } from './testing/scriptedIm';

const caller: Caller = { kind: 'github', id: 'github:acme/api', context: { repository: 'acme/api', environment: 'production', runId: '1' } };

describe('ImEventIntake', () => {
  it('reads the instance an event names and applies a redelivered event once', async () => {
    const core = await scriptedCore();
    const { approval } = await core.service.create({ template: 'deploy', idempotencyKey: 'k', variables: {} }, caller);
    core.im.decide(approval.imInstanceId!, { status: 'rejected', decidedBy: 'bob', comment: 'not today' });
    const event = { eventId: 'e1', instanceId: approval.imInstanceId! };
    await core.intake.apply(INTEGRATION, [event, event], 'callback');
    await core.intake.apply(INTEGRATION, [event], 'connection');
    expect(await core.service.get(approval.id)).toMatchObject({ status: 'rejected', decidedBy: 'bob', comment: 'not today' });
    expect(core.im.count('readInstance')).toBe(1);
    expect((await core.store.timeline(approval.id)).filter(e => e.type === 'rejected')).toHaveLength(1);
  });

  it('does not record an event whose read failed, so its redelivery is applied', async () => {
    const core = await scriptedCore();
    const { approval } = await core.service.create({ template: 'deploy', idempotencyKey: 'k', variables: {} }, caller);
    core.im.decide(approval.imInstanceId!, { status: 'approved', decidedBy: 'alice' });
    core.im.failNext('readInstance', new ImApiError('unavailable', 'down'));
    const event = { eventId: 'e1', instanceId: approval.imInstanceId! };
    await expect(core.intake.apply(INTEGRATION, [event], 'callback')).rejects.toThrow('down');
    await core.intake.apply(INTEGRATION, [event], 'callback');
    expect(await core.service.get(approval.id)).toMatchObject({ status: 'approved' });
  });

  it('ignores events for instances it does not know', async () => {
    const core = await scriptedCore();
    await core.intake.apply(INTEGRATION, [{ eventId: 'e', instanceId: 'someone-elses' }], 'callback');
    expect(core.im.count('readInstance')).toBe(0);
  });
});
