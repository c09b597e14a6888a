import type { Approval } from '@im-approval/plugin-im-approval-common';
import { decideInSandbox, openApproval, waitFor } from './__testUtils__/flow';
import { startStack, type Stack } from './__testUtils__/stack';

jest.setTimeout(120_000);

const HEARTBEAT_MS = 200;

/** One long-poll: when its status came, and its whole body. */
async function heldPoll(url: string, token: string) {
  const started = Date.now();
  const response = await fetch(url, {
    headers: { authorization: `Bearer ${token}`, 'accept-encoding': 'gzip' },
  });
  const statusAfterMs = Date.now() - started;
  const text = await response.text();
  return {
    response,
    statusAfterMs,
    text,
    leadingSpaces: text.length - text.trimStart().length,
    tookMs: Date.now() - started,
  };
}

describe('long-polls held with heartbeats (real backend on SQLite, Feishu sandbox over HTTP)', () => {
  let stack: Stack;
  const backend = () => stack.backends[0];
  const waitUrl = (id: string, timeout: string) =>
    `${backend().api}/approvals/${id}/wait?timeout=${timeout}`;

  beforeAll(async () => {
    stack = await startStack({
      database: 'sqlite',
      extraConfig: () => ({
        imApproval: {
          longPolls: { heartbeat: { milliseconds: HEARTBEAT_MS } },
        },
      }),
    });
  });
  afterAll(() => stack?.stop());

  it('sends the status at the first beat and a space at each, uncompressed, and the pending approval at the timeout', async () => {
    const { approval, token } = await openApproval(stack, backend());
    const poll = await heldPoll(waitUrl(approval.id, '2s'), token);

    expect(poll.response.status).toBe(200);
    expect(poll.statusAfterMs).toBeLessThan(1_500);
    expect(poll.response.headers.get('content-type')).toMatch(
      /^application\/json/,
    );
    expect(poll.response.headers.get('content-encoding')).toBeNull();
    expect(poll.response.headers.get('cache-control')).toContain(
      'no-transform',
    );
    // About one beat per 200 ms of a 2 s hold.
    expect(poll.leadingSpaces).toBeGreaterThanOrEqual(4);
    expect(poll.text.trim()).toBe(poll.text.slice(poll.leadingSpaces));
    expect(JSON.parse(poll.text)).toMatchObject({
      id: approval.id,
      status: 'pending',
    });
    expect(poll.tookMs).toBeGreaterThanOrEqual(1_900);
  });

  it('answers a held poll the moment the approval is decided, after its beats', async () => {
    const { approval, token } = await openApproval(stack, backend());
    const polling = heldPoll(waitUrl(approval.id, '60s'), token);
    await new Promise(resolve => setTimeout(resolve, HEARTBEAT_MS * 4));
    await decideInSandbox(stack, approval.imInstanceId!, 'approve', {
      openId: 'ou_alice',
    });
    const poll = await polling;
    expect(poll.leadingSpaces).toBeGreaterThanOrEqual(1);
    expect(JSON.parse(poll.text) as Approval).toMatchObject({
      status: 'approved',
      decidedBy: expect.any(String),
    });
    expect(poll.tookMs).toBeLessThan(30_000);
  });

  it('keeps refusals as statuses: nothing is committed before the approval is read and the caller allowed', async () => {
    const { token } = await openApproval(stack, backend());
    const unknown = await heldPoll(
      waitUrl('00000000-0000-4000-8000-000000000000', '5s'),
      token,
    );
    expect(unknown.response.status).toBe(404);
    expect(unknown.leadingSpaces).toBe(0);

    const tooLong = await waitFor(
      backend(),
      '00000000-0000-4000-8000-000000000000',
      token,
      '901s',
    );
    expect(tooLong.status).toBe(400);
    expect(JSON.stringify(tooLong.body)).toContain('query.timeout');
  });

  it('ends a committed poll by closing the connection when the backend stops, and the next poll is answered', async () => {
    const { approval, token } = await openApproval(stack, backend());
    const polling = heldPoll(waitUrl(approval.id, '60s'), token).then(
      () => 'answered',
      (error: Error) => `cut: ${error.message}`,
    );
    await new Promise(resolve => setTimeout(resolve, HEARTBEAT_MS * 3));
    await backend().restart();
    expect(await polling).toMatch(/^cut: /);

    const again = await waitFor(backend(), approval.id, token, '1s');
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ id: approval.id, status: 'pending' });
  });
});
