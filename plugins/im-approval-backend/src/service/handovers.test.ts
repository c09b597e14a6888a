import { scriptedCore } from './__testUtils__/scriptedIm';
import { describeHandovers } from './handovers';

describe('describeHandovers', () => {
  it('says who handed the task to whom, who added whom, and why, in order', () => {
    expect(
      describeHandovers('feishu', [
        {
          kind: 'transferred',
          from: { id: 'ou_bob', name: 'Bob' },
          to: [{ id: 'ou_carol', name: 'Carol' }],
          comment: 'on leave\nApproved',
        },
        {
          kind: 'added',
          from: { id: 'ou_carol', name: 'Carol' },
          to: [
            { id: 'ou_dave', name: 'Dave' },
            { id: 'ou_erin', name: 'Erin' },
          ],
        },
      ]),
    ).toBe(
      'in feishu: "Bob" handed the task to "Carol" ("on leave\\nApproved"); "Carol" added "Dave", "Erin" as approvers',
    );
  });

  it('names nobody it was not told of, and says nothing without hand-overs', () => {
    expect(
      describeHandovers('dingtalk', [{ kind: 'transferred', to: [] }]),
    ).toBe('in dingtalk: handed the task on');
    expect(
      describeHandovers('dingtalk', [
        { kind: 'added', from: { id: 'carol', name: 'Carol Wu' }, to: [] },
      ]),
    ).toBe('in dingtalk: "Carol Wu" added approvers');
    expect(describeHandovers('wecom', [])).toBe('');
    expect(describeHandovers('wecom')).toBe('');
  });
});

describe('a decision made after a hand-over in the IM', () => {
  it('is attributed to who decided, and its timeline event says how the task got to them', async () => {
    const core = await scriptedCore();
    const { approval } = await core.service.create(
      { template: 'deploy', idempotencyKey: 'k', variables: {} },
      {
        kind: 'github',
        id: 'github:acme/api',
        context: {
          repository: 'acme/api',
          environment: 'production',
          runId: '1',
        },
      },
    );
    core.im.decide(approval.imInstanceId!, {
      status: 'approved',
      decidedBy: { id: 'u-carol', name: 'Carol' },
      comment: 'covering',
      handovers: [
        {
          kind: 'transferred',
          from: { id: 'u-bob', name: 'Bob' },
          to: [{ id: 'u-carol', name: 'Carol' }],
        },
      ],
    });
    const decided = await core.transitions.followIm(
      (await core.store.get(approval.id))!,
      core.im,
      'callback',
    );
    expect(decided).toMatchObject({ status: 'approved', decidedBy: 'Carol' });
    const { timeline } = await core.service.getWithTimeline(approval.id);
    expect(timeline.at(-1)).toMatchObject({
      type: 'approved',
      actor: 'Carol',
      message: 'covering; in scripted: "Bob" handed the task to "Carol"',
    });
  });
});
