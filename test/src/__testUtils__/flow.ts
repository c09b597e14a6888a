import type { Approval } from '@im-approval/plugin-im-approval-common';
import { randomUUID } from 'node:crypto';
import type { BackendProcess } from './backendProcess';
import type { Im } from './ims';
import { api, getWithTimeline, RUN, sandboxControl, type Stack } from './stack';

export async function oidcToken(
  stack: Stack,
  claims: Partial<typeof RUN> = {},
) {
  return stack.issuer.sign({ ...RUN, ...claims });
}

/** Opens an approval as a workflow would, and checks it got an IM instance. */
export async function openApproval(
  stack: Stack,
  backend: BackendProcess,
  extra: Record<string, unknown> = {},
  claims: Partial<typeof RUN> = {},
) {
  const token = await oidcToken(stack, claims);
  const response = await api(backend, 'POST', '/approvals', {
    token,
    body: {
      template: 'deploy',
      idempotencyKey: randomUUID(),
      variables: { service: 'api', reason: 'release 1.2' },
      ...extra,
    },
  });
  if (response.status !== 201)
    throw new Error(
      `create answered ${response.status}: ${JSON.stringify(response.body)}`,
    );
  return { approval: response.body, token };
}

export function waitFor(
  backend: BackendProcess,
  id: string,
  token: string,
  timeout = '30s',
) {
  return api<Approval>(
    backend,
    'GET',
    `/approvals/${id}/wait?timeout=${timeout}`,
    { token },
  );
}

/** Acts as the approver in the sandbox's IM (Feishu unless told): `openId` for Feishu, `userId` for DingTalk and WeCom. */
export function decideInSandbox(
  stack: Stack,
  instanceId: string,
  decision: 'approve' | 'reject',
  body: {
    openId?: string;
    userId?: string;
    comment?: string;
    delivery?: { duplicate?: boolean; delayMs?: number; drop?: boolean };
  } = {},
  im: Im = 'feishu',
) {
  return sandboxControl(
    stack.sandbox,
    'POST',
    `/${im}/instances/${encodeURIComponent(instanceId)}/${decision}`,
    body,
  );
}

export async function eventually<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise(r => setTimeout(r, 100));
  }
}

/**
 * Waits until the backend is done reading the IM's instances through `route` (a new instance's
 * creation events are read too): the read a test then slows down is the decision's, not one still
 * in flight. Settled: the sandbox's count of those calls unchanged over three polls 200 ms apart.
 */
export async function readsSettled(stack: Stack, im: Im, route: string) {
  const reads = async () =>
    (
      await sandboxControl<{ calls: Record<string, number> }>(
        stack.sandbox,
        'GET',
        `/${im}/stats`,
      )
    ).calls[route] ?? 0;
  let last = -1;
  for (let still = 0; still < 3;) {
    const now = await reads();
    still = now === last ? still + 1 : 0;
    last = now;
    await new Promise(resolve => setTimeout(resolve, 200));
  }
}

/**
 * With the Feishu app's events switched off (none reaches the backend, not even the creation's,
 * whose read could otherwise see the decision first), an approval decided in Feishu is found by
 * the reconciler alone.
 */
export async function expectReconcilerToFindFeishuDecision(
  stack: Stack,
  backend: BackendProcess,
  appId: string,
  extra: Record<string, unknown> = {},
) {
  const app = `/feishu/apps/${appId}`;
  await sandboxControl(stack.sandbox, 'PATCH', app, { callbacks: 'off' });
  try {
    const { approval, token } = await openApproval(stack, backend, extra);
    const waiting = waitFor(backend, approval.id, token);
    await decideInSandbox(stack, approval.imInstanceId!, 'approve', {
      openId: 'ou_alice',
      comment: 'found by the reconciler',
    });
    expect((await waiting).body).toMatchObject({
      status: 'approved',
      comment: 'found by the reconciler',
    });
    const { body } = await getWithTimeline(backend, approval.id, token);
    expect(body.timeline.at(-1)).toMatchObject({
      type: 'approved',
      source: 'reconciler',
      actor: 'Alice Chen',
    });
  } finally {
    await sandboxControl(stack.sandbox, 'PATCH', app, { callbacks: 'on' });
  }
}

/**
 * Drops an app's long connection (Feishu's, or DingTalk's Stream) and refuses its reconnection
 * for 2 s, once nothing of it is in flight: an event awaiting its ack would hold the instance's
 * later events behind it (Feishu delivers in order), so they would never show as queued.
 */
export async function dropConnectionWhenIdle(
  stack: Stack,
  connections: '/feishu/connections' | '/dingtalk/stream',
  appId: string,
): Promise<{ closed: number }> {
  await eventually(
    () => sandboxControl(stack.sandbox, 'GET', connections),
    all =>
      all.some(
        (v: { appId: string; pending: number }) =>
          v.appId === appId && v.pending === 0,
      ),
  );
  // Down long enough that a decision made next is made while it is, on a loaded machine too.
  return sandboxControl(stack.sandbox, 'POST', `${connections}/drop`, {
    appId,
    downForMs: 2000,
  });
}
