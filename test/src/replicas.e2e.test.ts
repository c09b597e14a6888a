import { decideInSandbox, openApproval, waitFor } from './__testUtils__/flow';
import {
  api,
  getWithTimeline,
  startStack,
  type Stack,
} from './__testUtils__/stack';

jest.setTimeout(180_000);

describe('two backend replicas on one PostgreSQL database', () => {
  let stack: Stack;

  beforeAll(async () => {
    // Callbacks reach replica 0 only (the sandbox's callback URL); the reconciler is kept out of the way.
    stack = await startStack({
      database: 'postgres',
      replicas: 2,
      extraConfig: () => ({ auth: { providers: { guest: {} } } }),
    });
  });
  afterAll(() => stack?.stop());

  it('wakes a waiter on one replica when the decision lands on the other', async () => {
    const [a, b] = stack.backends;
    const { approval, token } = await openApproval(stack, a);
    const waiting = waitFor(b, approval.id, token, '60s');
    await new Promise(r => setTimeout(r, 500));
    const decidedAt = Date.now();
    await decideInSandbox(stack, approval.imInstanceId!, 'approve', {
      openId: 'ou_alice',
      comment: 'from replica a',
    });
    const decided = await waiting;
    const latencyMs = Date.now() - decidedAt;
    expect(decided.body).toMatchObject({
      status: 'approved',
      comment: 'from replica a',
    });
    // Far below the waiters' 10 s safety re-read: the notification, not polling, woke it.
    expect(latencyMs).toBeLessThan(5_000);
  });

  it('signals a page connected to one replica when an approval changes on the other', async () => {
    const [a, b] = stack.backends;
    const refresh = await fetch(`${b.url}/api/auth/guest/refresh`);
    const { token: guest } = (await refresh.json()).backstageIdentity;
    const messages: Array<{
      channel: string;
      message: { changes: Array<{ id: string; status: string }> };
    }> = [];
    const socket = await openSignals(
      `${b.url.replace(/^http/, 'ws')}/api/signals`,
      guest,
    );
    socket.onmessage = event => messages.push(JSON.parse(String(event.data)));
    socket.send(
      JSON.stringify({ action: 'subscribe', channel: 'im-approval:approvals' }),
    );
    await new Promise(r => setTimeout(r, 500));
    try {
      const { approval } = await openApproval(stack, a);
      await decideInSandbox(stack, approval.imInstanceId!, 'reject', {
        openId: 'ou_alice',
        comment: 'signalled',
      });
      const deadline = Date.now() + 15_000;
      const seen = (status: string) =>
        messages.some(
          m =>
            m.channel === 'im-approval:approvals' &&
            m.message.changes.some(
              change => change.id === approval.id && change.status === status,
            ),
        );
      // Changes of the same moment go in one signal with the latest status: opened, then rejected.
      while (!seen('rejected') && Date.now() < deadline)
        await new Promise(r => setTimeout(r, 100));
      expect(seen('rejected')).toBe(true);
    } finally {
      socket.close();
    }
  });

  it('serves the same approval from both replicas and keeps one winner under concurrent cancels', async () => {
    const [a, b] = stack.backends;
    const { approval, token } = await openApproval(stack, b);
    const results = await Promise.all(
      [a, b, a, b].map(replica =>
        api(replica, 'POST', `/approvals/${approval.id}/cancel`, { token }),
      ),
    );
    expect(
      results.every(r => r.status === 200 && r.body.status === 'canceled'),
    ).toBe(true);
    const { body } = await getWithTimeline(a, approval.id, token);
    expect(body.timeline.filter(e => e.type === 'canceled')).toHaveLength(1);
    expect(
      body.timeline.filter(e => e.type === 'im_instance_revoked'),
    ).toHaveLength(1);
  });

  it('opens one IM instance when the same request reaches both replicas at once', async () => {
    const [a, b] = stack.backends;
    const token = await stack.issuer.sign({
      repository: 'acme/api',
      repository_owner: 'acme',
      environment: 'production',
      run_id: '5',
    });
    const body = {
      template: 'deploy',
      idempotencyKey: `replicas-${Date.now()}`,
      variables: { service: 'api', reason: 'r' },
    };
    const [first, second] = await Promise.all(
      [a, b].map(replica =>
        api(replica, 'POST', '/approvals', { token, body }),
      ),
    );
    expect([first.status, second.status].sort()).toEqual([200, 201]);
    expect(first.body.id).toBe(second.body.id);
  });
});

/**
 * Connects as the signals plugin's client does (the token as the WebSocket protocol), trying again
 * as it does: the signals backend starts listening for upgrades on the first one, which it leaves
 * unanswered.
 */
async function openSignals(url: string, token: string): Promise<WebSocket> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const socket = new WebSocket(url, token);
    const opened = await new Promise<boolean>(resolve => {
      const timer = setTimeout(() => resolve(false), 1000);
      socket.onopen = () => {
        clearTimeout(timer);
        resolve(true);
      };
      socket.onerror = () => {
        clearTimeout(timer);
        resolve(false);
      };
    });
    if (opened) return socket;
    socket.close();
  }
  throw new Error(`the signals socket at ${url} did not open`);
}
