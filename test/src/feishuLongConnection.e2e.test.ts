import type { DeliveryRecord } from '@im-approval/im-sandbox';
import {
  decideInSandbox,
  dropConnectionWhenIdle,
  eventually,
  expectReconcilerToFindFeishuDecision,
  openApproval,
  waitFor,
} from './__testUtils__/flow';
import {
  FEISHU_LONG_CONNECTION_APP,
  feishuLongConnection,
} from './__testUtils__/ims';
import {
  api,
  getWithTimeline,
  sandboxControl,
  startStack,
  type Stack,
} from './__testUtils__/stack';

jest.setTimeout(120_000);

describe('Feishu long connection end to end (the backend holds the connection through the SDK, no callback URL)', () => {
  let stack: Stack;
  const backend = () => stack.backends[0];
  const template = { template: feishuLongConnection.template };
  const deliveries = async (instanceCode: string) =>
    (
      await sandboxControl<DeliveryRecord[]>(
        stack.sandbox,
        'GET',
        '/feishu/deliveries',
      )
    ).filter(d => d.instanceCode === instanceCode);

  beforeAll(async () => {
    stack = await startStack({
      database: 'sqlite',
      reconcileSeconds: 2,
      ims: [feishuLongConnection],
      sandbox: {
        feishuClientConfig: {
          PingInterval: 1,
          ReconnectInterval: 0.2,
          ReconnectNonce: 0,
        },
      },
    });
    await eventually(
      () => sandboxControl(stack.sandbox, 'GET', '/feishu/connections'),
      (views: Array<{ appId: string; connections: number }>) =>
        views.some(
          v =>
            v.appId === FEISHU_LONG_CONNECTION_APP.appId && v.connections === 1,
        ),
    );
  });
  afterAll(() => stack?.stop());

  it('applies an approval pushed over the connection, before acknowledging it', async () => {
    const { approval, token } = await openApproval(stack, backend(), template);
    const waiting = waitFor(backend(), approval.id, token);
    await decideInSandbox(stack, approval.imInstanceId!, 'approve', {
      openId: 'ou_alice',
      comment: 'over the wire',
    });
    expect((await waiting).body).toMatchObject({
      status: 'approved',
      decidedBy: 'Alice Chen',
      decidedById: 'ou_alice',
      comment: 'over the wire',
    });
    const { body } = await getWithTimeline(backend(), approval.id, token);
    // The reconciler passes every 2 s and may read the decision first; either way it is recorded
    // once, and the event below came over the long connection alone.
    expect(body.timeline.filter(event => event.type === 'approved')).toEqual([
      expect.objectContaining({
        source: expect.stringMatching(/^(connection|reconciler)$/),
      }),
    ]);
    const decided = await eventually(
      () => deliveries(approval.imInstanceId!),
      all =>
        all.some(
          d => d.eventStatus === 'APPROVED' && d.outcome === 'delivered',
        ),
    );
    expect(decided.filter(d => d.channel !== 'long-connection')).toEqual([]);
  });

  it('returns a rejection with the approver and comment', async () => {
    const { approval, token } = await openApproval(stack, backend(), template);
    const waiting = waitFor(backend(), approval.id, token);
    await decideInSandbox(stack, approval.imInstanceId!, 'reject', {
      openId: 'ou_bob',
      comment: 'not now',
    });
    expect((await waiting).body).toMatchObject({
      status: 'rejected',
      decidedBy: 'Bob Li',
      decidedById: 'ou_bob',
      comment: 'not now',
    });
  });

  it('cancels and revokes the Feishu instance', async () => {
    const { approval, token } = await openApproval(stack, backend(), template);
    const canceled = await api(
      backend(),
      'POST',
      `/approvals/${approval.id}/cancel`,
      { token, body: { reason: 'job canceled' } },
    );
    expect(canceled.body.status).toBe('canceled');
    expect(
      (
        await sandboxControl(
          stack.sandbox,
          'GET',
          `/feishu/instances/${approval.imInstanceId}`,
        )
      ).status,
    ).toBe('CANCELED');
  });

  it('applies an event pushed twice exactly once', async () => {
    const { approval, token } = await openApproval(stack, backend(), template);
    await decideInSandbox(stack, approval.imInstanceId!, 'approve', {
      openId: 'ou_alice',
      delivery: { duplicate: true },
    });
    const pushed = await eventually(
      async () =>
        (await deliveries(approval.imInstanceId!)).filter(
          d => d.eventStatus !== 'PENDING' && d.outcome === 'delivered',
        ),
      all =>
        all.length >= 4 &&
        all.length === 2 * new Set(all.map(d => d.eventUuid)).size,
    );
    expect(pushed.length).toBe(2 * new Set(pushed.map(d => d.eventUuid)).size);
    // Acknowledged once recorded; applied right after.
    await waitFor(backend(), approval.id, token);
    const { body } = await getWithTimeline(backend(), approval.id, token);
    expect(body.status).toBe('approved');
    expect(body.timeline.filter(e => e.type === 'approved')).toHaveLength(1);
  });

  it('finds a decision whose event was lost, through the reconciler', () =>
    expectReconcilerToFindFeishuDecision(
      stack,
      backend(),
      FEISHU_LONG_CONNECTION_APP.appId,
      template,
    ));

  it('loses no event when the sandbox drops the connection: the SDK reconnects and the queued event is acknowledged', async () => {
    const { approval, token } = await openApproval(stack, backend(), template);
    const dropped = await dropConnectionWhenIdle(
      stack,
      '/feishu/connections',
      FEISHU_LONG_CONNECTION_APP.appId,
    );
    expect(dropped).toEqual({ closed: 1 });
    const waiting = waitFor(backend(), approval.id, token);
    await decideInSandbox(stack, approval.imInstanceId!, 'reject', {
      openId: 'ou_bob',
      comment: 'while down',
    });
    expect((await waiting).body).toMatchObject({
      status: 'rejected',
      comment: 'while down',
    });

    const isRejection = (d: { eventType: string; eventStatus: string }) =>
      d.eventStatus === 'REJECTED' && d.eventType === 'approval_instance';
    const log = await eventually(
      async () =>
        (await deliveries(approval.imInstanceId!)).filter(
          d => d.eventStatus !== 'PENDING',
        ),
      all => all.some(d => isRejection(d) && d.outcome === 'delivered'),
    );
    // The decision's first event is queued while down, and the instance's later ones wait behind it
    // (Feishu delivers an instance's events in order); all are delivered once the SDK is back, a push
    // the busy SDK acks late pushed again.
    expect(log[0].outcome).toBe('queued');
    const rejection = log.filter(isRejection).map(d => d.outcome);
    expect(rejection.at(-1)).toBe('delivered');
    expect(
      rejection
        .slice(0, -1)
        .every(outcome => outcome === 'failed' || outcome === 'queued'),
    ).toBe(true);
    // The last push may still be waiting for its ack when the delivery log already shows it.
    const views = await eventually(
      () => sandboxControl(stack.sandbox, 'GET', '/feishu/connections'),
      all => all.some((v: { pending: number }) => v.pending === 0),
    );
    expect(views).toContainEqual({
      appId: FEISHU_LONG_CONNECTION_APP.appId,
      connections: 1,
      pending: 0,
    });
  });
});
