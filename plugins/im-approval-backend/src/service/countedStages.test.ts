import type { ParsedCreateApprovalRequest } from '@im-approval/plugin-im-approval-common';
import type { ImInstanceRequest } from '@im-approval/plugin-im-approval-node';
import type { Caller } from '../auth/CallerResolver';
import { scriptedCore, template } from './__testUtils__/scriptedIm';
import { CountedStages } from './CountedStages';

const workflow: Caller = {
  kind: 'github',
  id: 'github:acme/api',
  context: {
    repository: 'acme/api',
    ref: 'refs/heads/main',
    environment: 'production',
    runId: '1',
  },
};

const request = (key = 'run-1'): ParsedCreateApprovalRequest => ({
  template: 'counted',
  idempotencyKey: key,
  variables: {},
});

const counted = (stages: object[]) =>
  template({ name: 'counted', approvers: undefined, stages });

const person = (id: string) => ({ id, name: id.toUpperCase() });

async function twoOfThree(stages?: object[]) {
  const core = await scriptedCore({
    templates: [
      counted(
        stages ?? [
          { name: 'Reviewers', approvers: ['ann', 'ben', 'cat'], atLeast: 2 },
        ],
      ),
    ],
  });
  const { approval } = await core.service.create(request(), workflow);
  const decide = async (
    instanceId: string,
    decision: 'approved' | 'rejected',
    by: string,
  ) => {
    core.im.decide(instanceId, {
      status: decision,
      decidedBy: person(by),
      comment: `${decision} by ${by}`,
    });
    return core.transitions.followIm(
      (await core.store.get(approval.id))!,
      core.im,
      'callback',
      instanceId,
    );
  };
  return { ...core, approval, decide };
}

const created = (im: { calls: Array<{ op: string; arg?: unknown }> }) =>
  im.calls
    .filter(call => call.op === 'createInstance')
    .map(call => call.arg as ImInstanceRequest);

describe('a stage that needs N of its M approvers', () => {
  it("tells CC recipients once, with the first approver's request, not once per approver", async () => {
    const core = await scriptedCore({
      templates: [
        template({
          name: 'counted',
          approvers: undefined,
          stages: [{ approvers: ['ann', 'ben', 'cat'], atLeast: 2 }],
          cc: ['dee'],
        }),
      ],
    });
    await core.service.create(request(), workflow);
    expect(created(core.im).map(r => r.cc)).toEqual([
      ['dee'],
      undefined,
      undefined,
    ]);
  });

  it('asks each approver in a request of their own, saying how many must approve', async () => {
    const { im, approval } = await twoOfThree();
    const requests = created(im);
    expect(requests.map(r => r.stages)).toEqual([
      [{ name: 'Reviewers', approvers: ['ann'], rule: 'all' }],
      [{ name: 'Reviewers', approvers: ['ben'], rule: 'all' }],
      [{ name: 'Reviewers', approvers: ['cat'], rule: 'all' }],
    ]);
    expect(requests[0].title).toBe(
      'Deploy acme/api · Reviewers: 2 of 3 must approve',
    );
    // Each request is its own in the IM: three idempotency keys, none the approval's id.
    expect(new Set(requests.map(r => r.approvalId)).size).toBe(3);
    expect(requests.map(r => r.approvalId)).not.toContain(approval.id);
    expect(approval).toMatchObject({
      status: 'pending',
      imInstanceId: 'inst-1',
    });
  });

  it('approves when N have approved, and withdraws the request left open saying why', async () => {
    const { im, decide, store, approval } = await twoOfThree();
    const first = await decide('inst-2', 'approved', 'ben');
    expect(first.status).toBe('pending');
    expect(first.stages[0]).toMatchObject({
      status: 'pending',
      approvedBy: ['BEN'],
      waitingOn: ['ann', 'cat'],
    });
    const done = await decide('inst-3', 'approved', 'cat');
    expect(done).toMatchObject({
      status: 'approved',
      decidedBy: 'CAT',
      comment: 'approved by cat',
    });
    expect(done.stages[0]).toMatchObject({
      status: 'approved',
      approvedBy: ['BEN', 'CAT'],
      waitingOn: [],
    });
    expect(done.stages[0].requests.map(r => r.status)).toEqual([
      'closed',
      'approved',
      'approved',
    ]);
    expect(im.calls.filter(c => c.op === 'cancelInstance')).toEqual([
      { op: 'cancelInstance', arg: 'inst-1' },
    ]);
    expect(im.cancelReasons.get('inst-1')).toBe('2 of 3 approved Reviewers');
    const timeline = await store.timeline(approval.id);
    expect(timeline.map(e => e.type)).toEqual([
      'created',
      'im_instance_created',
      'im_instance_created',
      'im_instance_created',
      'stage_approved',
      'im_instance_revoked',
      'approved',
    ]);
  });

  it("keeps an IM's names and comments with NUL and line breaks as text it can store", async () => {
    const { im, transitions, store, approval } = await twoOfThree();
    im.decide('inst-1', {
      status: 'approved',
      decidedBy: { id: 'ann', name: 'Ann\u0000\nINFO forged' },
      comment: 'ok\u0000\r\nreally',
    });
    const read = await transitions.followIm(approval, im, 'callback', 'inst-1');
    expect(read.stages[0].requests[0]).toMatchObject({
      status: 'approved',
      decidedBy: 'Ann\uFFFD\nINFO forged',
      comment: 'ok\uFFFD\r\nreally',
    });
    expect(read.stages[0].approvedBy).toEqual(['Ann\uFFFD\nINFO forged']);
    // Stored and read back alike, so the next compare-and-set finds what it wrote.
    expect((await store.get(approval.id))!.stages).toEqual(read.stages);
  });

  it("says in the stage's event how a task handed on in the IM reached who decided it", async () => {
    const { im, transitions, approval, decide, store, service } =
      await twoOfThree();
    await decide('inst-1', 'approved', 'ann');
    im.decide('inst-2', {
      status: 'approved',
      decidedBy: person('dee'),
      handovers: [
        { kind: 'transferred', from: person('ben'), to: [person('dee')] },
      ],
    });
    const done = await transitions.followIm(
      (await store.get(approval.id))!,
      im,
      'callback',
      'inst-2',
    );
    expect(done.status).toBe('approved');
    const { timeline } = await service.getWithTimeline(approval.id);
    expect(timeline.find(e => e.type === 'stage_approved')?.message).toMatch(
      /; in scripted: "BEN" handed the task to "DEE"$/,
    );
    // Told once: the approval's own event does not repeat it.
    expect(timeline.find(e => e.type === 'approved')?.message).not.toMatch(
      /handed/,
    );
  });

  it('rejects once N can no longer be reached, not before', async () => {
    const { decide, im } = await twoOfThree();
    expect((await decide('inst-1', 'rejected', 'ann')).status).toBe('pending');
    const done = await decide('inst-3', 'rejected', 'cat');
    expect(done).toMatchObject({ status: 'rejected', decidedBy: 'CAT' });
    expect(done.stages[0]).toMatchObject({
      status: 'rejected',
      rejectedBy: ['ANN', 'CAT'],
    });
    expect(im.cancelReasons.get('inst-2')).toBe(
      'Reviewers can no longer reach 2 approvals',
    );
  });

  it('counts a decision once however often it is read, and a person listed twice once', async () => {
    const { decide, im } = await twoOfThree([
      { approvers: ['ann', 'ann', 'ben'], atLeast: 2 },
    ]);
    expect(created(im)).toHaveLength(2);
    await decide('inst-1', 'approved', 'ann');
    const again = await decide('inst-1', 'approved', 'ann');
    expect(again.status).toBe('pending');
    expect(again.stages[0].approvedBy).toEqual(['ANN']);
    expect((await decide('inst-2', 'approved', 'ben')).status).toBe('approved');
  });

  it('counts two decisions read at once by two replicas, each once', async () => {
    const core = await twoOfThree();
    const other = new CountedStages({
      store: core.store,
      opener: core.opener,
      transitions: core.transitions,
      logger: { info() {}, warn() {}, error() {} } as never,
    });
    core.im.decide('inst-1', { status: 'approved', decidedBy: person('ann') });
    core.im.decide('inst-2', { status: 'approved', decidedBy: person('ben') });
    const approval = (await core.store.get(core.approval.id))!;
    await Promise.all([
      core.transitions.followIm(approval, core.im, 'callback', 'inst-1'),
      other.follow(approval, 'connection', 'inst-2'),
    ]);
    const done = (await core.store.get(core.approval.id))!;
    expect(done.status).toBe('approved');
    expect(done.stages[0].approvedBy.sort()).toEqual(['ANN', 'BEN']);
    expect(
      (await core.store.timeline(core.approval.id)).filter(
        e => e.type === 'approved',
      ),
    ).toHaveLength(1);
  });

  it('opens the next stage only once the counted one passes, and ends with its decision', async () => {
    const { decide, im } = await twoOfThree([
      { name: 'Reviewers', approvers: ['ann', 'ben', 'cat'], atLeast: 2 },
      { name: 'SRE', approvers: ['sre-1', 'sre-2'], rule: 'any' },
    ]);
    expect(created(im)).toHaveLength(3);
    await decide('inst-1', 'approved', 'ann');
    const next = await decide('inst-2', 'approved', 'ben');
    expect(next.status).toBe('pending');
    expect(next.stages.map(s => s.status)).toEqual(['approved', 'pending']);
    expect(
      created(im)
        .slice(3)
        .map(r => r.title),
    ).toEqual([
      'Deploy acme/api · SRE: 1 of 2 must approve',
      'Deploy acme/api · SRE: 1 of 2 must approve',
    ]);
    // A late decision on a request already withdrawn changes nothing.
    expect((await decide('inst-3', 'rejected', 'cat')).status).toBe('pending');
    const done = await decide('inst-5', 'approved', 'sre-2');
    expect(done).toMatchObject({ status: 'approved', decidedBy: 'SRE-2' });
    expect(im.cancelReasons.get('inst-4')).toBe('1 of 2 approved SRE');
  });

  it('withdraws every open request when the approval is canceled', async () => {
    const { service, decide, im, approval } = await twoOfThree();
    await decide('inst-1', 'approved', 'ann');
    const canceled = await service.cancel(approval.id, workflow, 'not needed');
    expect(canceled.status).toBe('canceled');
    expect(
      im.calls.filter(c => c.op === 'cancelInstance').map(c => c.arg),
    ).toEqual(['inst-2', 'inst-3']);
    expect(canceled.stages[0].requests.map(r => r.status)).toEqual([
      'approved',
      'closed',
      'closed',
    ]);
  });

  it('refuses a stage that needs more approvers than its group turns out to have', async () => {
    const { service } = await scriptedCore({
      templates: [counted([{ approvers: ['group:default/sre'], atLeast: 2 }])],
      entities: [
        {
          apiVersion: 'backstage.io/v1alpha1',
          kind: 'User',
          metadata: { name: 'ann', namespace: 'default' },
          spec: { profile: { email: 'ann@example.com' }, memberOf: [] },
          relations: [],
        },
        {
          apiVersion: 'backstage.io/v1alpha1',
          kind: 'Group',
          metadata: { name: 'sre', namespace: 'default' },
          spec: { type: 'team', children: [] },
          relations: [{ type: 'hasMember', targetRef: 'user:default/ann' }],
        },
      ],
    });
    await expect(service.create(request(), workflow)).rejects.toThrow(
      'template "counted" stages[0].atLeast: 2 must approve, but the stage asks 1 (ann@example.com)',
    );
  });
});
