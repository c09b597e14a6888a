import type { Approval } from '@im-approval/plugin-im-approval-common';
import { randomUUID } from 'node:crypto';
import type { BackendProcess } from './backendProcess';
import type { Im } from './ims';
import { api, RUN, sandboxControl, type Stack } from './stack';

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
) {
  const token = await oidcToken(stack);
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
