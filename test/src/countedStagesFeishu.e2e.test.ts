import type { Approval } from '@im-approval/plugin-im-approval-common';
import {
  decideInSandbox,
  eventually,
  openApproval,
  waitFor,
} from './__testUtils__/flow';
import { feishuCallback, templateForApi } from './__testUtils__/ims';
import {
  api,
  errorMessage,
  getWithTimeline,
  sandboxControl,
  STATIC_TOKEN,
  startStack,
  type Stack,
} from './__testUtils__/stack';

// Stages that need N of their M approvers, on Feishu: each approver gets an instance of their own
// (one approver, the title saying how many must approve), the backend counts their decisions, and
// the instances left open when the stage is decided are revoked by their initiator (Feishu's
// instances/cancel takes no reason), so they leave those approvers' to-do lists.
jest.setTimeout(60_000);

const {
  approvers: _approvers,
  approverMode: _approverMode,
  ...common
} = templateForApi(feishuCallback.templateConfig);
const REVIEWERS = ['alice@example.com', 'ou_bob', 'carol@example.com'];
const reviewers = (approvers = REVIEWERS) => ({
  name: 'Reviewers',
  approvers,
  rule: 'any',
  atLeast: 2,
});
/**
 * A definition an administrator made in Feishu's approval console: one AND node whose approver
 * each request chooses (a counted stage's request asks its one approver with the rule all).
 */
const REVIEW = {
  approvalCode: 'REVIEW',
  name: 'Release review',
  form: [
    { id: 'widget_service', name: 'Service', type: 'input', required: true },
    { id: 'widget_reason', name: 'Reason', type: 'textarea', required: true },
  ],
  nodes: [
    {
      nodeId: 'node_1',
      customNodeId: 'reviewer',
      name: 'Reviewer',
      type: 'AND',
      needApprover: true,
    },
  ],
};
const EXISTING = {
  ...common,
  integration: feishuCallback.integrationId,
  form: REVIEW.approvalCode,
  fields: { Service: '${vars.service}', Reason: '${vars.reason}' },
};
/** A definition the backend makes: a counted template's has a single approver node. */
const MADE = {
  ...common,
  integration: feishuCallback.integrationId,
  form: { create: true },
  fields: { Service: '${vars.service}', Reason: '${vars.reason}' },
};
const TEMPLATES = [
  { ...MADE, name: 'counted-made', stages: [reviewers()] },
  { ...EXISTING, name: 'counted-review', stages: [reviewers()] },
  {
    ...MADE,
    name: 'counted-same-person',
    // Alice twice, by email and by open_id: one person, so one request.
    stages: [
      reviewers([
        'alice@example.com',
        'ou_alice',
        'ou_bob',
        'carol@example.com',
      ]),
    ],
  },
  {
    ...MADE,
    name: 'counted-then-any',
    stages: [
      reviewers(),
      { name: 'Release manager', approvers: ['ou_dave'], rule: 'any' },
    ],
  },
];

interface InstanceView {
  instanceCode: string;
  approvalCode: string;
  title: string | null;
  status: string;
  initiatorOpenId: string;
  approvers: Array<{ openId: string; nodeName: string; status: string }>;
  timeline: Array<{ type: string; openId: string; comment: string | null }>;
}

describe('Feishu stages that need N of their M approvers (real backend, Feishu sandbox)', () => {
  let stack: Stack;
  const backend = () => stack.backends[0];
  const instance = (code: string) =>
    sandboxControl<InstanceView>(
      stack.sandbox,
      'GET',
      `/feishu/instances/${code}`,
    );
  const read = async (id: string, token: string) =>
    (await api<Approval>(backend(), 'GET', `/approvals/${id}`, { token })).body;
  /** Each request's instance in Feishu, in the stage's order, once all are opened. */
  const requestsOf = async (approval: Approval, token: string, stage = 0) => {
    const opened = await eventually(
      () => read(approval.id, token),
      a =>
        a.stages[stage]?.requests.length > 0 &&
        a.stages[stage].requests.every(r => r.instanceId !== null),
    );
    if (!opened.stages[stage]?.requests.every(r => r.instanceId !== null))
      throw new Error(
        `stage ${stage + 1}'s requests were not all opened in Feishu (approval ${opened.status}: ${opened.error ?? 'no error'})`,
      );
    return Promise.all(
      opened.stages[stage].requests.map(r => instance(r.instanceId!)),
    );
  };
  const open = (template: string) =>
    openApproval(stack, backend(), { template });
  /** What an approver sees of their own request: its status and theirs. */
  const seen = (view: InstanceView) =>
    `${view.approvers.map(a => a.openId).join(',')} ${view.status} ${view.approvers.map(a => a.status).join(',')}`;

  beforeAll(async () => {
    // The reconciler passes every second, so it reads a stage's requests while events arrive.
    stack = await startStack({ database: 'sqlite', reconcileSeconds: 1 });
    for (const user of [
      { openId: 'ou_carol', name: 'Carol Wang', email: 'carol@example.com' },
      { openId: 'ou_dave', name: 'Dave Zhou', email: 'dave@example.com' },
    ])
      await sandboxControl(stack.sandbox, 'POST', '/feishu/users', user);
    await sandboxControl(stack.sandbox, 'POST', '/feishu/approvals', REVIEW);
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

  it('asks each of three reviewers in an instance of their own, passes on the second approval, and revokes the third', async () => {
    const { approval, token } = await open('counted-made');
    const [alice, bob, carol] = await requestsOf(approval, token);
    // octocat is no Feishu user: the bot initiates, and the title says who asks.
    const title = `${approval.title} · requested by GitHub user octocat · Reviewers: 2 of 3 must approve`;
    expect([alice, bob, carol].map(view => view.title)).toEqual([
      title,
      title,
      title,
    ]);
    expect([alice, bob, carol].map(seen)).toEqual([
      'ou_alice PENDING PENDING',
      'ou_bob PENDING PENDING',
      'ou_carol PENDING PENDING',
    ]);
    // All three are instances of the one definition the backend made for the template.
    expect(
      new Set([alice, bob, carol].map(view => view.approvalCode)).size,
    ).toBe(1);

    await decideInSandbox(stack, alice.instanceCode, 'approve', {
      openId: 'ou_alice',
      comment: 'looks fine',
    });
    const afterAlice = await eventually(
      () => read(approval.id, token),
      a => a.stages[0].approvedBy.length === 1,
    );
    expect(afterAlice.status).toBe('pending');
    expect(afterAlice.stages[0]).toMatchObject({
      status: 'pending',
      atLeast: 2,
      approvedBy: ['Alice Chen'],
      waitingOn: ['ou_bob', 'ou_carol'],
    });

    const waiting = waitFor(backend(), approval.id, token);
    await decideInSandbox(stack, bob.instanceCode, 'approve', {
      openId: 'ou_bob',
      comment: 'ship it',
    });
    const done = (await waiting).body;
    expect(done).toMatchObject({
      status: 'approved',
      decidedBy: 'Bob Li',
      comment: 'ship it',
    });
    expect(done.stages[0]).toMatchObject({
      status: 'approved',
      approvedBy: ['Alice Chen', 'Bob Li'],
      rejectedBy: [],
      waitingOn: [],
    });
    expect(
      done.stages[0].requests.map(
        r => `${r.approver} ${r.status} ${r.decidedBy} ${r.comment}`,
      ),
    ).toEqual([
      'ou_alice approved Alice Chen looks fine',
      'ou_bob approved Bob Li ship it',
      'ou_carol closed null null',
    ]);

    // Carol's request is revoked by its initiator: it leaves her to-do list, and she can no longer act on it.
    const revoked = await eventually(
      () => instance(carol.instanceCode),
      view => view.status !== 'PENDING',
    );
    expect(seen(revoked)).toBe('ou_carol CANCELED DONE');
    expect(revoked.timeline.at(-1)).toMatchObject({
      type: 'CANCEL',
      openId: revoked.initiatorOpenId,
      comment: null,
    });
    const late = await decideInSandbox(stack, carol.instanceCode, 'approve', {
      openId: 'ou_carol',
    }).catch((error: Error) => error);
    expect(String(late)).toMatch(/409.*only a PENDING instance can be decided/);
    const { body } = await getWithTimeline(backend(), approval.id, token);
    expect(body.status).toBe('approved');
    expect(
      body.timeline
        .filter(event => event.type === 'im_instance_revoked')
        .map(event => event.message),
    ).toEqual([
      `feishu instance ${carol.instanceCode} withdrawn: 2 of 3 approved Reviewers`,
    ]);
  });

  it('is rejected once two of three have rejected, and revokes the request left', async () => {
    const { approval, token } = await open('counted-review');
    const [alice, bob, carol] = await requestsOf(approval, token);
    expect([alice, bob, carol].map(view => view.approvalCode)).toEqual([
      'REVIEW',
      'REVIEW',
      'REVIEW',
    ]);

    await decideInSandbox(stack, alice.instanceCode, 'reject', {
      openId: 'ou_alice',
      comment: 'not today',
    });
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
          waitingOn: ['ou_bob', 'ou_carol'],
        },
      ],
    });
    expect(seen(await instance(carol.instanceCode))).toBe(
      'ou_carol PENDING PENDING',
    );

    const waiting = waitFor(backend(), approval.id, token);
    await decideInSandbox(stack, bob.instanceCode, 'reject', {
      openId: 'ou_bob',
      comment: 'agreed, not today',
    });
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
    });
    expect(done.stages[0].requests.map(r => r.status)).toEqual([
      'rejected',
      'rejected',
      'closed',
    ]);
    const revoked = await eventually(
      () => instance(carol.instanceCode),
      view => view.status !== 'PENDING',
    );
    expect(seen(revoked)).toBe('ou_carol CANCELED DONE');
    const { body } = await getWithTimeline(backend(), approval.id, token);
    expect(
      body.timeline
        .filter(event => event.type === 'im_instance_revoked')
        .map(event => event.message),
    ).toEqual([
      `feishu instance ${carol.instanceCode} withdrawn: Reviewers can no longer reach 2 approvals`,
    ]);
  });

  it('counts an approval once when Feishu delivers its events twice while the reconciler reads the stage', async () => {
    const { approval, token } = await open('counted-made');
    const [alice, bob] = await requestsOf(approval, token);
    await decideInSandbox(stack, alice.instanceCode, 'approve', {
      openId: 'ou_alice',
      delivery: { duplicate: true },
    });
    const deliveries = await eventually(
      async () =>
        (
          await sandboxControl<
            Array<{
              eventUuid: string;
              instanceCode: string;
              eventStatus: string;
              outcome: string;
            }>
          >(stack.sandbox, 'GET', '/feishu/deliveries')
        ).filter(
          d =>
            d.instanceCode === alice.instanceCode &&
            d.eventStatus === 'APPROVED' &&
            d.outcome === 'delivered',
        ),
      found => found.length >= 4,
    );
    // The task's and the instance's events, each delivered twice under its one uuid.
    expect(deliveries).toHaveLength(4);
    expect(new Set(deliveries.map(d => d.eventUuid)).size).toBe(2);
    // The reconciler passes every second, reading the stage's requests meanwhile.
    await new Promise(resolve => setTimeout(resolve, 2_500));
    const counted = await read(approval.id, token);
    expect(counted.status).toBe('pending');
    expect(counted.stages[0]).toMatchObject({
      status: 'pending',
      approvedBy: ['Alice Chen'],
      waitingOn: ['ou_bob', 'ou_carol'],
    });
    expect(counted.stages[0].requests.map(r => r.status)).toEqual([
      'approved',
      'pending',
      'pending',
    ]);

    const waiting = waitFor(backend(), approval.id, token);
    await decideInSandbox(stack, bob.instanceCode, 'approve', {
      openId: 'ou_bob',
    });
    expect((await waiting).body).toMatchObject({
      status: 'approved',
      decidedBy: 'Bob Li',
      stages: [{ approvedBy: ['Alice Chen', 'Bob Li'] }],
    });
  });

  it('asks one person named twice (by email and by open_id) once, and counts their approval once', async () => {
    const { approval, token } = await open('counted-same-person');
    const views = await requestsOf(approval, token);
    // Alice approves every request Feishu shows her.
    const hers = views.filter(view => view.approvers[0].openId === 'ou_alice');
    for (const view of hers)
      await decideInSandbox(stack, view.instanceCode, 'approve', {
        openId: 'ou_alice',
      });
    const after = await eventually(
      () => read(approval.id, token),
      a =>
        a.status !== 'pending' || a.stages[0].approvedBy.length >= hers.length,
    );
    expect(after).toMatchObject({
      status: 'pending',
      stages: [{ approvedBy: ['Alice Chen'] }],
    });
    expect(views.map(view => view.approvers[0].openId)).toEqual([
      'ou_alice',
      'ou_bob',
      'ou_carol',
    ]);
  });

  it("takes a counted template on Feishu's DEPLOY definition, whose one node is OR: each request asks a single approver", async () => {
    const saved = await api(backend(), 'POST', '/templates', {
      token: STATIC_TOKEN,
      body: {
        ...common,
        name: 'counted-deploy',
        integration: feishuCallback.integrationId,
        stages: [reviewers()],
      },
    });
    expect(errorMessage(saved)).toBe('(no error; status 201)');
  });

  it('asks the next stage only once the counted stage has passed, and ends approved by its approver', async () => {
    const { approval, token } = await open('counted-then-any');
    const [alice, bob, carol] = await requestsOf(approval, token);
    const first = await read(approval.id, token);
    expect(first.stages.map(s => `${s.name} ${s.status}`)).toEqual([
      'Reviewers pending',
      'Release manager waiting',
    ]);
    expect(first.stages[1].requests.map(r => r.instanceId)).toEqual([null]);
    await decideInSandbox(stack, alice.instanceCode, 'approve', {
      openId: 'ou_alice',
    });
    await eventually(
      () => read(approval.id, token),
      a => a.stages[0].approvedBy.length === 1,
    );
    // Nothing in Feishu asks Dave yet.
    const all = await sandboxControl<InstanceView[]>(
      stack.sandbox,
      'GET',
      '/feishu/instances',
    );
    expect(
      all.filter(view => view.approvers.some(a => a.openId === 'ou_dave')),
    ).toEqual([]);

    await decideInSandbox(stack, bob.instanceCode, 'approve', {
      openId: 'ou_bob',
    });
    const [dave] = await requestsOf(approval, token, 1);
    expect(dave.title).toBe(
      `${approval.title} · requested by GitHub user octocat · Release manager: 1 of 1 must approve`,
    );
    expect(seen(dave)).toBe('ou_dave PENDING PENDING');
    const between = await read(approval.id, token);
    expect(between).toMatchObject({
      status: 'pending',
      stages: [
        { status: 'approved', approvedBy: ['Alice Chen', 'Bob Li'] },
        { status: 'pending', waitingOn: ['ou_dave'] },
      ],
    });
    expect(seen(await instance(carol.instanceCode))).toBe(
      'ou_carol CANCELED DONE',
    );

    const waiting = waitFor(backend(), approval.id, token);
    await decideInSandbox(stack, dave.instanceCode, 'approve', {
      openId: 'ou_dave',
      comment: 'release ok',
    });
    const done = (await waiting).body;
    expect(done).toMatchObject({
      status: 'approved',
      decidedBy: 'Dave Zhou',
      comment: 'release ok',
    });
    expect(
      done.stages.map(s => `${s.status} ${s.approvedBy.join(', ')}`),
    ).toEqual(['approved Alice Chen, Bob Li', 'approved Dave Zhou']);
    const { body } = await getWithTimeline(backend(), approval.id, token);
    expect(
      body.timeline.filter(e => e.type === 'stage_approved').map(e => e.actor),
    ).toEqual(['Alice Chen, Bob Li', 'Dave Zhou']);
  });
});
