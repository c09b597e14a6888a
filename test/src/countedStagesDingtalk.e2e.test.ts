import type {
  Approval,
  ApprovalWithTimeline,
  TemplateView,
} from '@im-approval/plugin-im-approval-common';
import {
  decideInSandbox,
  eventually,
  openApproval,
  readsSettled,
  waitFor,
} from './__testUtils__/flow';
import { dingtalkCallback, withUsers } from './__testUtils__/ims';
import {
  api,
  getWithTimeline,
  sandboxControl,
  STATIC_TOKEN,
  startStack,
  type Stack,
} from './__testUtils__/stack';

// Stages that need N of their M approvers, in DingTalk: each approver gets an OA approval instance
// of their own (one approver step), the backend counts the decisions DingTalk's callbacks tell,
// and once the stage is decided it terminates the instances left running, the reason as the
// terminate remark their approvers see.
jest.setTimeout(90_000);

const CAROL = { userId: 'carol', name: 'Carol Wu', mobile: '13800000003' };
const DAVE = { userId: 'dave', name: 'Dave Zhou', mobile: '13800000004' };
/** DingTalk over HTTP push, with a corp big enough for 2 of 3 and a second stage of others. */
const DINGTALK = withUsers(dingtalkCallback, CAROL, DAVE);

const {
  approvers: _approvers,
  approverMode: _approverMode,
  ...common
} = dingtalkCallback.templateConfig;
const REVIEWERS = { name: 'Reviewers', atLeast: 2 };
/** A form the backend makes (form { create: true }), with alice, bob and carol by user id. */
const MADE = {
  ...common,
  name: 'reviewed-release-dingtalk',
  integration: dingtalkCallback.integrationId,
  form: { create: true },
  fields: { Service: '$${vars.service}', Reason: '$${vars.reason}' },
  stages: [{ ...REVIEWERS, approvers: ['alice', 'bob', 'carol'] }],
};
/** The seeded form PROC-DEPLOY, alice named by her mobile (looked up when her instance is made). */
const EXISTING = {
  ...common,
  name: 'reviewed-deploy-dingtalk',
  integration: dingtalkCallback.integrationId,
  stages: [{ ...REVIEWERS, approvers: ['13800000001', 'bob', 'carol'] }],
};
/** alice twice: by user id and by mobile. */
const ALICE_TWICE = {
  ...EXISTING,
  name: 'reviewed-twice-dingtalk',
  stages: [
    { ...REVIEWERS, approvers: ['alice', '13800000001', 'bob', 'carol'] },
  ],
};
const TWO_STAGES = {
  ...EXISTING,
  name: 'reviewed-then-released-dingtalk',
  stages: [
    { ...REVIEWERS, approvers: ['alice', 'bob', 'carol'] },
    { name: 'Release', approvers: ['dave', 'bob'], rule: 'any' },
  ],
};

/** What the sandbox shows of a DingTalk instance (GET /_sandbox/dingtalk/instances/:id). */
interface SandboxInstance {
  processInstanceId: string;
  processCode: string;
  formName: string;
  status: 'RUNNING' | 'COMPLETED' | 'TERMINATED';
  result: string;
  approvers: Array<{
    userId: string;
    node: number;
    actionType: string;
    status: string;
  }>;
  operationRecords: Array<{
    userId: string;
    type: string;
    result: string;
    remark: string | null;
  }>;
}

describe('DingTalk stages that need N of M approvers (real backend, DingTalk sandbox)', () => {
  let stack: Stack;
  const backend = () => stack.backends[0];
  const instance = (id: string) =>
    sandboxControl<SandboxInstance>(
      stack.sandbox,
      'GET',
      `/dingtalk/instances/${encodeURIComponent(id)}`,
    );
  const instances = () =>
    sandboxControl<SandboxInstance[]>(
      stack.sandbox,
      'GET',
      '/dingtalk/instances',
    );
  const decide = (
    id: string,
    decision: 'approve' | 'reject',
    userId: string,
    extra: { comment?: string; delivery?: { duplicate?: boolean } } = {},
  ) => decideInSandbox(stack, id, decision, { userId, ...extra }, 'dingtalk');

  /** Opens an approval and waits until each approver of its first stage has their instance. */
  const open = async (template: string) => {
    const { approval, token } = await openApproval(stack, backend(), {
      template,
    });
    const read = async () =>
      (
        await api<ApprovalWithTimeline>(
          backend(),
          'GET',
          `/approvals/${approval.id}`,
          { token },
        )
      ).body;
    const opened = await eventually(read, a =>
      a.stages[0].requests.every(r => r.instanceId !== null),
    );
    /** The instance of an approver's request in a stage. */
    const requestOf = (a: Approval, approver: string, stage = 0) =>
      a.stages[stage].requests.find(r => r.approver === approver)!.instanceId!;
    return { approval: opened, token, read, requestOf };
  };

  /** A terminated instance: its one task closed, and the terminate record with DingTalk's remark. */
  const expectTerminated = async (
    id: string,
    approver: string,
    remark: string,
  ) => {
    const terminated = await eventually(
      () => instance(id),
      i => i.status !== 'RUNNING',
    );
    expect(terminated).toMatchObject({
      status: 'TERMINATED',
      result: '',
      approvers: [{ userId: approver, status: 'DONE' }],
    });
    expect(terminated.operationRecords.at(-1)).toMatchObject({
      type: 'TERMINATE_PROCESS_INSTANCE',
      remark,
    });
  };

  beforeAll(async () => {
    stack = await startStack({
      database: 'sqlite',
      ims: [DINGTALK],
      templates: [MADE, EXISTING, ALICE_TWICE, TWO_STAGES],
    });
  });
  afterAll(() => stack?.stop());

  it('gives each reviewer an instance of the made form, is approved by the second approval, and terminates the third with "2 of 3 approved Reviewers"', async () => {
    const { approval, token, read, requestOf } = await open(MADE.name);
    const { body: templates } = await api<{ items: TemplateView[] }>(
      backend(),
      'GET',
      '/templates',
      { token: STATIC_TOKEN },
    );
    const formId = templates.items.find(t => t.name === MADE.name)!.managedForm!
      .formId;
    expect(approval).toMatchObject({
      status: 'pending',
      stages: [
        {
          name: 'Reviewers',
          atLeast: 2,
          status: 'pending',
          approvers: ['alice', 'bob', 'carol'],
          waitingOn: ['alice', 'bob', 'carol'],
          approvedBy: [],
          requests: ['alice', 'bob', 'carol'].map(approver => ({
            approver,
            status: 'pending',
          })),
        },
      ],
    });
    const ids = approval.stages[0].requests.map(r => r.instanceId!);
    expect(new Set(ids).size).toBe(3);
    expect(approval.imInstanceId).toBe(ids[0]);
    // DingTalk's create takes no title: each approver sees the form's name, one approver step
    // (NONE) that is theirs alone.
    for (const [i, approver] of ['alice', 'bob', 'carol'].entries()) {
      expect(await instance(ids[i])).toMatchObject({
        processCode: formId,
        formName: MADE.name,
        status: 'RUNNING',
        form: [
          { name: 'Service', value: 'api' },
          { name: 'Reason', value: 'release 1.2' },
          {
            name: 'Context',
            value: expect.stringMatching(
              /^Deploy api from acme\/api · requested by GitHub user octocat · Reviewers: 2 of 3 must approve\nRequested by: octocat \(GitHub\)\n/,
            ),
          },
        ],
        approvers: [
          { userId: approver, node: 0, actionType: 'NONE', status: 'PENDING' },
        ],
      });
    }

    await decide(requestOf(approval, 'alice'), 'approve', 'alice', {
      comment: 'lgtm',
    });
    const afterOne = await eventually(
      read,
      a => a.stages[0].approvedBy.length === 1,
    );
    expect(afterOne).toMatchObject({
      status: 'pending',
      stages: [
        {
          status: 'pending',
          approvedBy: ['Alice Chen'],
          waitingOn: ['bob', 'carol'],
        },
      ],
    });
    expect((await instance(requestOf(approval, 'bob'))).status).toBe('RUNNING');

    const waiting = waitFor(backend(), approval.id, token);
    await decide(requestOf(approval, 'carol'), 'approve', 'carol', {
      comment: 'ship it',
    });
    const done = (await waiting).body;
    expect(done).toMatchObject({
      status: 'approved',
      decidedBy: 'Carol Wu',
      comment: 'ship it',
    });
    expect(done.stages[0]).toMatchObject({
      status: 'approved',
      approvedBy: ['Alice Chen', 'Carol Wu'],
      rejectedBy: [],
      waitingOn: [],
      requests: [
        {
          approver: 'alice',
          status: 'approved',
          decidedBy: 'Alice Chen',
          comment: 'lgtm',
        },
        { approver: 'bob', status: 'closed', decidedBy: null },
        {
          approver: 'carol',
          status: 'approved',
          decidedBy: 'Carol Wu',
          comment: 'ship it',
        },
      ],
    });
    await expectTerminated(
      requestOf(approval, 'bob'),
      'bob',
      '2 of 3 approved Reviewers',
    );
    const { body: withTimeline } = await getWithTimeline(
      backend(),
      approval.id,
      token,
    );
    expect(withTimeline.timeline.map(e => e.message)).toContain(
      `dingtalk instance ${requestOf(approval, 'bob')} withdrawn: 2 of 3 approved Reviewers`,
    );

    // bob finds his request terminated: DingTalk takes no decision on it, and nothing changes.
    await expect(
      decide(requestOf(approval, 'bob'), 'reject', 'bob'),
    ).rejects.toThrow(/409 .*only a pending instance can be decided/);
    expect(await read()).toMatchObject({
      status: 'approved',
      decidedBy: 'Carol Wu',
    });
  });

  it('is rejected once 2 of 3 can no longer approve, not at the first rejection, and terminates the last instance saying so', async () => {
    const { approval, token, read, requestOf } = await open(EXISTING.name);
    expect(approval.stages[0].requests.map(r => r.approver)).toEqual([
      'alice',
      'bob',
      'carol',
    ]);
    // The mobile is alice's in DingTalk: her instance of PROC-DEPLOY is hers.
    const aliceInstance = await instance(requestOf(approval, 'alice'));
    expect(aliceInstance).toMatchObject({
      processCode: 'PROC-DEPLOY',
      formName: 'Production deployment',
      approvers: [{ userId: 'alice', actionType: 'NONE', status: 'PENDING' }],
    });

    await decide(requestOf(approval, 'bob'), 'reject', 'bob', {
      comment: 'not today',
    });
    const afterOne = await eventually(
      read,
      a => a.stages[0].rejectedBy.length === 1,
    );
    expect(afterOne).toMatchObject({
      status: 'pending',
      stages: [
        {
          status: 'pending',
          rejectedBy: ['Bob Li'],
          waitingOn: ['alice', 'carol'],
        },
      ],
    });

    const waiting = waitFor(backend(), approval.id, token);
    await decide(requestOf(approval, 'carol'), 'reject', 'carol', {
      comment: 'agreed, not today',
    });
    const done = (await waiting).body;
    expect(done).toMatchObject({
      status: 'rejected',
      decidedBy: 'Carol Wu',
      comment: 'agreed, not today',
      stages: [
        {
          status: 'rejected',
          approvedBy: [],
          rejectedBy: ['Bob Li', 'Carol Wu'],
          waitingOn: [],
          requests: [
            { approver: 'alice', status: 'closed' },
            { approver: 'bob', status: 'rejected', comment: 'not today' },
            { approver: 'carol', status: 'rejected' },
          ],
        },
      ],
    });
    await expectTerminated(
      requestOf(approval, 'alice'),
      'alice',
      'Reviewers can no longer reach 2 approvals',
    );
  });

  it('counts an approval DingTalk delivers twice once', async () => {
    const { approval, read, requestOf } = await open(EXISTING.name);
    const bobs = requestOf(approval, 'bob');
    await decide(bobs, 'approve', 'bob', { delivery: { duplicate: true } });
    // Both deliveries of each of the decision's events answered by the backend.
    await eventually(
      () =>
        sandboxControl<
          Array<{ instanceId: string; eventStatus: string; outcome: string }>
        >(stack.sandbox, 'GET', '/dingtalk/deliveries'),
      all =>
        all.filter(
          d =>
            d.instanceId === bobs &&
            d.outcome === 'delivered' &&
            d.eventStatus !== 'start',
        ).length >= 4,
    );
    const after = await eventually(
      read,
      a => a.stages[0].approvedBy.length > 0,
    );
    expect(after).toMatchObject({
      status: 'pending',
      stages: [
        {
          status: 'pending',
          approvedBy: ['Bob Li'],
          waitingOn: ['alice', 'carol'],
        },
      ],
    });
    expect(
      after.timeline.filter(
        e => e.type === 'approved' || e.type === 'stage_approved',
      ),
    ).toEqual([]);
  });

  it('asks a person named twice (user id and mobile) once, so her approval counts once', async () => {
    const { approval, read } = await open(ALICE_TWICE.name);
    // alice is one DingTalk user, whichever way the template writes her: she approves every
    // instance of this approval she was given.
    const hers = (await instances()).filter(
      i =>
        approval.stages[0].requests.some(
          r => r.instanceId === i.processInstanceId,
        ) && i.approvers.some(a => a.userId === 'alice'),
    );
    for (const { processInstanceId } of hers)
      await decide(processInstanceId, 'approve', 'alice');
    await readsSettled(stack, 'dingtalk', 'instance.get');
    expect(await read()).toMatchObject({
      status: 'pending',
      stages: [
        {
          status: 'pending',
          approvedBy: ['Alice Chen'],
          waitingOn: ['bob', 'carol'],
        },
      ],
    });
    expect(hers).toHaveLength(1);
    expect(approval.stages[0].requests.map(r => r.approver)).toEqual([
      'alice',
      'bob',
      'carol',
    ]);
  });

  it('asks the Release stage only once Reviewers passed, and is approved by its approver', async () => {
    const { approval, token, read, requestOf } = await open(TWO_STAGES.name);
    expect(approval.stages).toMatchObject([
      { name: 'Reviewers', atLeast: 2, status: 'pending' },
      {
        name: 'Release',
        rule: 'any',
        atLeast: 1,
        status: 'waiting',
        waitingOn: [],
        requests: [
          { approver: 'dave', instanceId: null, status: 'pending' },
          { approver: 'bob', instanceId: null, status: 'pending' },
        ],
      },
    ]);
    const askedOf = async (approver: string) =>
      (await instances()).filter(
        i =>
          i.status === 'RUNNING' &&
          i.approvers.some(a => a.userId === approver),
      );
    expect(await askedOf('dave')).toEqual([]);

    await decide(requestOf(approval, 'alice'), 'approve', 'alice');
    await eventually(read, a => a.stages[0].approvedBy.length === 1);
    expect(await askedOf('dave')).toEqual([]);

    await decide(requestOf(approval, 'bob'), 'approve', 'bob');
    const released = await eventually(read, a =>
      a.stages[1].requests.every(r => r.instanceId !== null),
    );
    expect(released).toMatchObject({
      status: 'pending',
      stages: [
        {
          status: 'approved',
          approvedBy: ['Alice Chen', 'Bob Li'],
          requests: [
            { approver: 'alice', status: 'approved' },
            { approver: 'bob', status: 'approved' },
            { approver: 'carol', status: 'closed' },
          ],
        },
        { status: 'pending', waitingOn: ['dave', 'bob'] },
      ],
    });
    await expectTerminated(
      requestOf(approval, 'carol'),
      'carol',
      '2 of 3 approved Reviewers',
    );
    const daves = requestOf(released, 'dave', 1);
    expect((await askedOf('dave')).map(i => i.processInstanceId)).toEqual([
      daves,
    ]);
    expect(await instance(requestOf(released, 'bob', 1))).toMatchObject({
      status: 'RUNNING',
      approvers: [{ userId: 'bob', actionType: 'NONE', status: 'PENDING' }],
    });

    const waiting = waitFor(backend(), approval.id, token);
    await decide(daves, 'approve', 'dave', { comment: 'released' });
    const done = (await waiting).body;
    expect(done).toMatchObject({
      status: 'approved',
      decidedBy: 'Dave Zhou',
      comment: 'released',
      stages: [
        { status: 'approved' },
        {
          status: 'approved',
          approvedBy: ['Dave Zhou'],
          requests: [
            { approver: 'dave', status: 'approved' },
            { approver: 'bob', status: 'closed' },
          ],
        },
      ],
    });
    await expectTerminated(
      requestOf(released, 'bob', 1),
      'bob',
      '1 of 2 approved Release',
    );
    const { body } = await getWithTimeline(backend(), approval.id, token);
    expect(
      body.timeline
        .filter(e => e.type === 'stage_approved')
        .map(e => e.message),
    ).toEqual([
      'Stage 1 of 2 ("Reviewers") approved: 2 of 3, 2 needed ("Alice Chen", "Bob Li")',
      'Stage 2 of 2 ("Release") approved: 1 of 2, 1 needed ("Dave Zhou")',
    ]);
  });
});
