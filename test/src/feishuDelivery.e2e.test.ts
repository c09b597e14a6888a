import type { DeliveryRecord } from '@im-approval/im-sandbox';
import { createServer, type Server, type Socket } from 'node:net';
import {
  decideInSandbox,
  eventually,
  openApproval,
  readsSettled,
  waitFor,
} from './__testUtils__/flow';
import {
  FEISHU_APP,
  getWithTimeline,
  sandboxControl,
  startStack,
  type Stack,
} from './__testUtils__/stack';

// Feishu's event delivery as the platform documents it, met by the real backend: an answer is
// due within about 3 s or the push counts as failed and is redelivered (15 s, 5 min, 1 h, 6 h on a
// real tenant; compressed here), and the events of one instance come in order, the later ones held
// while one is unanswered. The reconciler runs rarely here, so only callbacks decide.

jest.setTimeout(120_000);

/** A callback URL that accepts connections and never answers: a backend that hangs. */
async function startBlackHole(): Promise<{
  url: string;
  close(): Promise<void>;
}> {
  const sockets = new Set<Socket>();
  const server: Server = createServer(socket => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/callbacks/feishu/feishu-sandbox`,
    close: async () => {
      sockets.forEach(socket => socket.destroy());
      await new Promise(resolve => server.close(resolve));
    },
  };
}

describe('Feishu event delivery (real backend on SQLite, Feishu sandbox over HTTP)', () => {
  let stack: Stack;
  const backend = () => stack.backends[0];
  const callbackUrl = () => `${backend().api}/callbacks/feishu/feishu-sandbox`;
  const decisionDeliveries = async (instanceCode: string) =>
    (
      await sandboxControl<DeliveryRecord[]>(
        stack.sandbox,
        'GET',
        '/feishu/deliveries',
      )
    ).filter(
      d => d.instanceCode === instanceCode && d.eventStatus !== 'PENDING',
    );

  beforeAll(async () => {
    stack = await startStack({ database: 'sqlite', reconcileSeconds: 600 });
  });
  afterAll(() => stack?.stop());

  it('answer deadline: the backend acknowledges within ~3 s although the instance read takes 5 s, and then applies the decision', async () => {
    const { approval, token } = await openApproval(stack, backend());
    // The next read of the instance (the backend reads it to learn the decision) answers after 5 s.
    await readsSettled(stack, 'feishu', 'instance.get');
    await sandboxControl(stack.sandbox, 'POST', '/feishu/answer-faults', {
      route: 'instance.get',
      delayMs: 5000,
      times: 1,
    });

    const waiting = waitFor(backend(), approval.id, token);
    await decideInSandbox(stack, approval.imInstanceId!, 'approve', {
      openId: 'ou_alice',
      comment: 'slow read',
    });

    expect((await waiting).body).toMatchObject({
      status: 'approved',
      decidedBy: 'Alice Chen',
      decidedById: 'ou_alice',
      comment: 'slow read',
    });
    const deliveries = await eventually(
      () => decisionDeliveries(approval.imInstanceId!),
      all => all.length >= 3,
    );
    // Each event of the decision was acknowledged at its first attempt: none waited for the read.
    expect(deliveries.map(d => [d.attempt, d.outcome])).toEqual(
      deliveries.map(() => [1, 'delivered']),
    );
  });

  it('a first event left unanswered does not strand the instance: redelivered, the held events follow, and the decision applies', async () => {
    const { approval, token } = await openApproval(stack, backend());
    // The creation's events (instance and two tasks PENDING) reach the backend first.
    await eventually(
      async () =>
        (
          await sandboxControl<DeliveryRecord[]>(
            stack.sandbox,
            'GET',
            '/feishu/deliveries',
          )
        ).filter(
          d =>
            d.instanceCode === approval.imInstanceId &&
            d.outcome === 'delivered',
        ),
      all => all.length >= 3,
    );
    const hole = await startBlackHole();
    try {
      await sandboxControl(
        stack.sandbox,
        'PATCH',
        `/feishu/apps/${FEISHU_APP.appId}`,
        { callbackUrl: hole.url },
      );
      await decideInSandbox(stack, approval.imInstanceId!, 'reject', {
        openId: 'ou_bob',
        comment: 'unanswered first',
      });

      // The first event of the decision waits out the answer deadline and counts as failed…
      const failed = await eventually(
        () => decisionDeliveries(approval.imInstanceId!),
        all => all.some(d => d.outcome === 'failed'),
        30_000,
      );
      expect(failed).toEqual([
        expect.objectContaining({
          attempt: 1,
          outcome: 'failed',
          error: expect.stringContaining('no answer within 3000 ms'),
          willRetry: true,
        }),
      ]);
      // …and the later events of the instance are held behind it, not sent.
      expect(new Set(failed.map(d => d.eventUuid)).size).toBe(1);
    } finally {
      // The backend answers again (Feishu redelivers to the request URL configured now).
      await sandboxControl(
        stack.sandbox,
        'PATCH',
        `/feishu/apps/${FEISHU_APP.appId}`,
        { callbackUrl: callbackUrl() },
      );
      await hole.close();
    }

    expect((await waitFor(backend(), approval.id, token)).body).toMatchObject({
      status: 'rejected',
      decidedBy: 'Bob Li',
      decidedById: 'ou_bob',
      comment: 'unanswered first',
    });
    const deliveries = await eventually(
      () => decisionDeliveries(approval.imInstanceId!),
      all =>
        new Set(
          all.filter(d => d.outcome === 'delivered').map(d => d.eventUuid),
        ).size >= 3,
    );
    const first = deliveries[0].eventUuid;
    expect(
      deliveries.filter(d => d.eventUuid === first).map(d => d.outcome),
    ).toEqual(['failed', 'delivered']);
    // The held events went only after the first was acknowledged, in order.
    const firstDelivered = deliveries.findIndex(
      d => d.eventUuid === first && d.outcome === 'delivered',
    );
    expect(
      deliveries
        .slice(firstDelivered + 1)
        .every(d => d.eventUuid !== first && d.outcome === 'delivered'),
    ).toBe(true);
    const { body } = await getWithTimeline(backend(), approval.id, token);
    expect(body.timeline.find(e => e.type === 'rejected')?.source).toBe(
      'callback',
    );
  });
});
