import type {
  Approval,
  ApprovalStage,
} from '@im-approval/plugin-im-approval-common';
import {
  decideInSandbox,
  eventually,
  openApproval,
  waitFor,
} from './__testUtils__/flow';
import { wecomCallback, withUsers, templateForApi } from './__testUtils__/ims';
import {
  api,
  errorMessage,
  getWithTimeline,
  sandboxControl,
  STATIC_TOKEN,
  startStack,
  type Stack,
} from './__testUtils__/stack';

// Stages that need N of their M approvers, on WeCom: each approver gets a request of their own
// (applyevent with one approver node), the backend counts their decisions from WeCom's
// sys_approval_change callbacks, and decides the stage. WeCom has no API to withdraw a request, so
// the requests left open stay open in WeCom, and a decision made on one later changes nothing.
jest.setTimeout(60_000);

/** WeCom's members beside the shared Alice, Bob and the release bot: a third reviewer and a release manager. */
const SETUP = withUsers(
  wecomCallback,
  { userId: 'carol', name: 'Carol Wu', email: 'carol@example.com' },
  { userId: 'dave', name: 'Dave Zhou', mobile: '13800000004' },
);
const {
  approvers: _approvers,
  approverMode: _approverMode,
  ...common
} = templateForApi(wecomCallback.templateConfig);
const reviewers = (approvers: string[]) => ({
  name: 'Reviewers',
  approvers,
  atLeast: 2,
});
/** The seeded "Production deployment" template: WeCom takes each request's approvers. */
const EXISTING = { ...common, integration: SETUP.integrationId };
/** A template the backend makes in WeCom (create_template), one text control per field. */
const MADE = {
  ...common,
  integration: SETUP.integrationId,
  form: { create: true },
  fields: { Service: '${vars.service}', Reason: '${vars.reason}' },
};
const TEMPLATES = [
  {
    ...MADE,
    name: 'counted-made',
    stages: [reviewers(['alice', 'bob', 'carol'])],
  },
  {
    ...EXISTING,
    name: 'counted-deploy',
    stages: [reviewers(['alice@example.com', '13800000002', 'carol'])],
  },
  {
    ...EXISTING,
    name: 'counted-same-person',
    // Alice twice, by user id and by email: one person, so one request.
    stages: [reviewers(['alice', 'alice@example.com', 'bob', 'carol'])],
  },
  {
    ...EXISTING,
    name: 'counted-then-any',
    stages: [
      reviewers(['alice@example.com', '13800000002', 'carol']),
      { name: 'Release manager', approvers: ['dave'], rule: 'any' },
    ],
  },
];

interface RequestView {
  spNo: string;
  templateId: string;
  spName: string;
  spStatus: number;
  status: string;
  summary: string[];
  approvers: Array<{
    userId: string;
    node: number;
    apvRel: string;
    status: string;
  }>;
}

interface Delivery {
  instanceId: string;
  eventStatus: string;
  outcome: string;
  httpStatus?: number;
}

describe('WeCom stages that need N of their M approvers (real backend, WeCom sandbox)', () => {
  let stack: Stack;
  const backend = () => stack.backends[0];
  const request = (spNo: string) =>
    sandboxControl<RequestView>(
      stack.sandbox,
      'GET',
      `/wecom/instances/${spNo}`,
    );
  const read = async (id: string, token: string) =>
    (await api<Approval>(backend(), 'GET', `/approvals/${id}`, { token })).body;
  /** Each approver's request in WeCom, in the stage's order, once all are made. */
  const requestsOf = async (approval: Approval, token: string, stage = 0) => {
    const opened = await eventually(
      () => read(approval.id, token),
      a =>
        a.stages[stage]?.requests.length > 0 &&
        a.stages[stage].requests.every(r => r.instanceId !== null),
    );
    return Promise.all(
      opened.stages[stage].requests.map(r => request(r.instanceId!)),
    );
  };
  const open = (template: string) =>
    openApproval(stack, backend(), { template });
  /** What an approver sees of their own request: who it asks, its sp_status, and their own step. */
  const seen = (view: RequestView) =>
    `${view.approvers.map(a => `${a.userId} ${a.apvRel}`).join(',')} ${view.status} ${view.approvers.map(a => a.status).join(',')}`;
  /** WeCom's sys_approval_change callbacks for a request, answered 200 by the backend. */
  const delivered = (spNo: string, spStatus: string, count: number) =>
    eventually(
      async () =>
        (
          await sandboxControl<Delivery[]>(
            stack.sandbox,
            'GET',
            '/wecom/deliveries',
          )
        ).filter(
          d =>
            d.instanceId === spNo &&
            d.eventStatus === spStatus &&
            d.outcome === 'delivered' &&
            d.httpStatus === 200,
        ),
      found => found.length >= count,
    );

  beforeAll(async () => {
    // Callbacks only: every decision here reaches the backend as WeCom's event.
    stack = await startStack({ database: 'sqlite', ims: [SETUP] });
    for (const template of TEMPLATES) {
      const created = await api(backend(), 'POST', '/templates', {
        token: STATIC_TOKEN,
        body: template,
      });
      if (created.status !== 201)
        throw new Error(
          `POST /templates ${template.name}: ${errorMessage(created)}`,
        );
    }
  });
  afterAll(() => stack?.stop());

  it('asks each of three reviewers in a request of their own, passes on the second approval, and leaves the third open in WeCom, where deciding it changes nothing', async () => {
    const { approval, token } = await open('counted-made');
    const [alice, bob, carol] = await requestsOf(approval, token);
    expect([alice, bob, carol].map(seen)).toEqual([
      'alice AND PENDING PENDING',
      'bob AND PENDING PENDING',
      'carol AND PENDING PENDING',
    ]);
    // Three requests of the one template the backend made for the template.
    expect(new Set([alice, bob, carol].map(view => view.templateId)).size).toBe(
      1,
    );
    expect(alice.templateId).toMatch(/^C4/);
    expect(new Set([alice, bob, carol].map(view => view.spNo)).size).toBe(3);
    // The approval's own instance is Alice's, the request this test leaves open.
    expect((await read(approval.id, token)).imInstanceId).toBe(alice.spNo);

    await decideInSandbox(
      stack,
      bob.spNo,
      'approve',
      { userId: 'bob', comment: 'looks fine' },
      'wecom',
    );
    const afterBob = await eventually(
      () => read(approval.id, token),
      a => a.stages[0].approvedBy.length === 1,
    );
    expect(afterBob.status).toBe('pending');
    expect(afterBob.stages[0]).toMatchObject({
      status: 'pending',
      atLeast: 2,
      approvedBy: ['Bob Li'],
      waitingOn: ['alice', 'carol'],
    });

    const waiting = waitFor(backend(), approval.id, token);
    await decideInSandbox(
      stack,
      carol.spNo,
      'approve',
      { userId: 'carol', comment: 'ship it' },
      'wecom',
    );
    const done = (await waiting).body;
    expect(done).toMatchObject({
      status: 'approved',
      decidedBy: 'Carol Wu',
      comment: 'ship it',
    });
    expect(done.stages[0]).toMatchObject({
      status: 'approved',
      approvedBy: ['Bob Li', 'Carol Wu'],
      rejectedBy: [],
      waitingOn: [],
    });
    expect(
      done.stages[0].requests.map(
        r =>
          `${r.approver} ${r.instanceId} ${r.status} ${r.decidedBy} ${r.comment}`,
      ),
    ).toEqual([
      `alice ${alice.spNo} closed null null`,
      `bob ${bob.spNo} approved Bob Li looks fine`,
      `carol ${carol.spNo} approved Carol Wu ship it`,
    ]);
    const { body: decided } = await getWithTimeline(
      backend(),
      approval.id,
      token,
    );
    // WeCom cannot withdraw Alice's request: the timeline says so, and it stays open for her.
    expect(
      decided.timeline
        .filter(event =>
          /^(im_instance_revoked|im_revoke_failed)$/.test(event.type),
        )
        .map(event => `${event.type} ${event.message}`),
    ).toEqual([
      'im_revoke_failed WeCom offers no API to revoke an approval request; the approver may still see it until it is withdrawn in WeCom',
    ]);
    expect(seen(await request(alice.spNo))).toBe('alice AND PENDING PENDING');

    // Alice decides afterwards: WeCom takes it and calls the backend back, which changes nothing.
    const late = await decideInSandbox(
      stack,
      alice.spNo,
      'reject',
      { userId: 'alice', comment: 'too late' },
      'wecom',
    );
    expect(seen(late)).toBe('alice AND REJECTED REJECTED');
    await delivered(alice.spNo, 'SpStatus 3 StatuChangeEvent 3', 1);
    // The callback is processed from the backend's inbox: give it a few of its passes.
    await new Promise(resolve => setTimeout(resolve, 2_500));
    const { body: after } = await getWithTimeline(
      backend(),
      approval.id,
      token,
    );
    expect(after).toMatchObject({
      status: 'approved',
      decidedBy: 'Carol Wu',
      comment: 'ship it',
      stages: done.stages,
    });
    expect(after.timeline).toEqual(decided.timeline);
  });

  it('tells each reviewer, in the lines WeCom shows of their request, that 2 of 3 must approve', async () => {
    const { approval, token } = await open('counted-made');
    const views = await requestsOf(approval, token);
    // WeCom gives a request no title of its own: its list and notification card show the
    // template's name and the request's summary lines (at most three, of 20 characters each).
    expect(views.map(view => view.spName)).toEqual([
      'counted-made',
      'counted-made',
      'counted-made',
    ]);
    for (const view of views)
      expect(view.summary).toContainEqual(
        expect.stringContaining('2 of 3 must approve'),
      );
  });

  it('asks one person named twice (by user id and by email) once, and counts their approval once', async () => {
    const { approval, token } = await open('counted-same-person');
    const views = await requestsOf(approval, token);
    // Alice approves every request WeCom shows her.
    const hers = views.filter(view => view.approvers[0].userId === 'alice');
    for (const view of hers)
      await decideInSandbox(
        stack,
        view.spNo,
        'approve',
        { userId: 'alice' },
        'wecom',
      );
    for (const view of hers)
      await delivered(view.spNo, 'SpStatus 2 StatuChangeEvent 2', 1);
    await new Promise(resolve => setTimeout(resolve, 2_500));
    const after = await read(approval.id, token);
    expect(after.status).toBe('pending');
    expect(after.stages[0].approvedBy).toEqual(['Alice Chen']);
    expect(views.map(view => view.approvers[0].userId)).toEqual([
      'alice',
      'bob',
      'carol',
    ]);
  });

  it('is rejected once two of three have rejected (pending after the first), and leaves the third request open', async () => {
    const { approval, token } = await open('counted-deploy');
    const [alice, bob, carol] = await requestsOf(approval, token);
    expect(alice.spName).toBe('Production deployment');
    expect([alice, bob, carol].map(view => view.approvers[0].userId)).toEqual([
      'alice',
      'bob',
      'carol',
    ]);

    await decideInSandbox(
      stack,
      alice.spNo,
      'reject',
      { userId: 'alice', comment: 'not today' },
      'wecom',
    );
    const afterAlice = await eventually(
      () => read(approval.id, token),
      a => a.stages[0].rejectedBy.length === 1,
    );
    // Bob and Carol can still make two approvals.
    expect(afterAlice).toMatchObject({
      status: 'pending',
      stages: [
        {
          status: 'pending',
          rejectedBy: ['Alice Chen'],
          waitingOn: ['bob', 'carol'],
        },
      ],
    });

    const waiting = waitFor(backend(), approval.id, token);
    await decideInSandbox(
      stack,
      bob.spNo,
      'reject',
      { userId: 'bob', comment: 'agreed, not today' },
      'wecom',
    );
    const done = (await waiting).body;
    expect(done).toMatchObject({
      status: 'rejected',
      decidedBy: 'Bob Li',
      comment: 'agreed, not today',
    });
    expect(done.stages[0]).toMatchObject({
      status: 'rejected',
      approvedBy: [],
      rejectedBy: ['Alice Chen', 'Bob Li'],
      waitingOn: [],
    });
    expect(done.stages[0].requests.map(r => r.status)).toEqual([
      'rejected',
      'rejected',
      'closed',
    ]);
    const { body } = await getWithTimeline(backend(), approval.id, token);
    expect(
      body.timeline
        .filter(event => event.type === 'rejected')
        .map(event => event.message),
    ).toEqual(['Reviewers can no longer reach 2 approvals']);
    expect(
      body.timeline.filter(event => event.type === 'im_revoke_failed'),
    ).toHaveLength(1);
    // Carol's request is still open in WeCom; her approval there changes nothing.
    expect(seen(await request(carol.spNo))).toBe('carol AND PENDING PENDING');
    await decideInSandbox(
      stack,
      carol.spNo,
      'approve',
      { userId: 'carol' },
      'wecom',
    );
    await delivered(carol.spNo, 'SpStatus 2 StatuChangeEvent 2', 1);
    await new Promise(resolve => setTimeout(resolve, 2_500));
    expect(await read(approval.id, token)).toMatchObject({
      status: 'rejected',
      decidedBy: 'Bob Li',
      stages: done.stages,
    });
  });

  it('counts an approval once when WeCom calls back twice for it', async () => {
    const { approval, token } = await open('counted-deploy');
    const [alice, bob] = await requestsOf(approval, token);
    await decideInSandbox(
      stack,
      alice.spNo,
      'approve',
      { userId: 'alice', delivery: { duplicate: true } },
      'wecom',
    );
    // The same sys_approval_change (sp_status 2) twice, each answered 200.
    expect(
      await delivered(alice.spNo, 'SpStatus 2 StatuChangeEvent 2', 2),
    ).toHaveLength(2);
    await new Promise(resolve => setTimeout(resolve, 2_500));
    const counted = await read(approval.id, token);
    expect(counted.status).toBe('pending');
    expect(counted.stages[0]).toMatchObject({
      status: 'pending',
      approvedBy: ['Alice Chen'],
      waitingOn: ['bob', 'carol'],
    });
    expect(counted.stages[0].requests.map(r => r.status)).toEqual([
      'approved',
      'pending',
      'pending',
    ]);

    const waiting = waitFor(backend(), approval.id, token);
    await decideInSandbox(
      stack,
      bob.spNo,
      'approve',
      { userId: 'bob' },
      'wecom',
    );
    expect((await waiting).body).toMatchObject({
      status: 'approved',
      decidedBy: 'Bob Li',
      stages: [{ approvedBy: ['Alice Chen', 'Bob Li'] }],
    });
  });

  it('asks the next stage only once the counted stage has passed, and ends approved by its approver', async () => {
    const { approval, token } = await open('counted-then-any');
    const [alice, bob, carol] = await requestsOf(approval, token);
    const first = await read(approval.id, token);
    expect(
      first.stages.map((s: ApprovalStage) => `${s.name} ${s.status}`),
    ).toEqual(['Reviewers pending', 'Release manager waiting']);
    expect(first.stages[1].requests.map(r => r.instanceId)).toEqual([null]);
    const asksDave = async () =>
      (
        await sandboxControl<RequestView[]>(
          stack.sandbox,
          'GET',
          '/wecom/instances',
        )
      ).filter(view => view.approvers.some(a => a.userId === 'dave'));

    await decideInSandbox(
      stack,
      alice.spNo,
      'approve',
      { userId: 'alice' },
      'wecom',
    );
    await eventually(
      () => read(approval.id, token),
      a => a.stages[0].approvedBy.length === 1,
    );
    // Nothing in WeCom asks Dave yet.
    expect(await asksDave()).toEqual([]);

    await decideInSandbox(
      stack,
      bob.spNo,
      'approve',
      { userId: 'bob' },
      'wecom',
    );
    const [dave] = await requestsOf(approval, token, 1);
    expect(seen(dave)).toBe('dave AND PENDING PENDING');
    expect((await asksDave()).map(view => view.spNo)).toEqual([dave.spNo]);
    const between = await read(approval.id, token);
    expect(between).toMatchObject({
      status: 'pending',
      stages: [
        { status: 'approved', approvedBy: ['Alice Chen', 'Bob Li'] },
        { status: 'pending', waitingOn: ['dave'] },
      ],
    });
    // Carol was not needed: her request stays open in WeCom.
    expect(seen(await request(carol.spNo))).toBe('carol AND PENDING PENDING');

    const waiting = waitFor(backend(), approval.id, token);
    await decideInSandbox(
      stack,
      dave.spNo,
      'approve',
      { userId: 'dave', comment: 'release it' },
      'wecom',
    );
    const done = (await waiting).body;
    expect(done).toMatchObject({
      status: 'approved',
      decidedBy: 'Dave Zhou',
      comment: 'release it',
    });
    expect(
      done.stages.map(s => `${s.name} ${s.status} ${s.approvedBy.join(', ')}`),
    ).toEqual([
      'Reviewers approved Alice Chen, Bob Li',
      'Release manager approved Dave Zhou',
    ]);
    expect(done.stages[0].requests.map(r => r.status)).toEqual([
      'approved',
      'approved',
      'closed',
    ]);
  });
});
