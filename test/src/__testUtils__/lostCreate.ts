import type { Approval } from '@im-approval/plugin-im-approval-common';
import { randomUUID } from 'node:crypto';
import type { BackendProcess } from './backendProcess';
import {
  decideInSandbox,
  eventually,
  oidcToken,
  openApproval,
  waitFor,
} from './flow';
import { api, getWithTimeline, sandboxControl, type Stack } from './stack';

/** An IM, and how its sandbox names its instances and its create call. */
export interface LostCreateIm {
  im: 'feishu' | 'dingtalk' | 'wecom';
  /** The id field of the sandbox's instance views. */
  idField: 'instanceCode' | 'processInstanceId' | 'spNo';
  /** The sandbox's route of the create call. */
  createRoute: 'instance.create' | 'oa.applyevent';
  template: string;
  /** Who approves in the IM. */
  approver: string;
}

/** The ids of the IM's instances the sandbox holds. */
function instanceIdsOf(stack: Stack, im: LostCreateIm) {
  return async () =>
    (
      await sandboxControl<Array<Record<string, string>>>(
        stack.sandbox,
        'GET',
        `/${im.im}/instances`,
      )
    ).map(view => view[im.idField]);
}

/**
 * The approval ends with the one instance the IM made (`made`, found by the reconciler, not made
 * again), and is decided normally; returns it as it was once attached.
 */
async function expectOneInstanceAttachedAndDecided(
  stack: Stack,
  backend: BackendProcess,
  im: LostCreateIm,
  approval: Approval,
  token: string,
  made: { id: string; before: Set<string> },
) {
  const instanceIds = instanceIdsOf(stack, im);
  // The reconciler retries a stranded approval after 30 s: it finds the instance instead of making another.
  const attached = await eventually(
    async () => (await getWithTimeline(backend, approval.id, token)).body,
    body => Boolean(body.imInstanceId),
    60_000,
  );
  expect(attached.imInstanceId).toBe(made.id);
  expect((await instanceIds()).filter(id => !made.before.has(id))).toEqual([
    made.id,
  ]);

  const decider =
    im.im === 'feishu' ? { openId: im.approver } : { userId: im.approver };
  const waiting = waitFor(backend, approval.id, token);
  await decideInSandbox(
    stack,
    made.id,
    'approve',
    { ...decider, comment: 'once' },
    im.im,
  );
  expect((await waiting).body).toMatchObject({
    status: 'approved',
    comment: 'once',
  });
  return attached;
}

/**
 * The IM makes the instance but its answer never arrives (`mode`: a 500, or a dropped connection):
 * afterwards there is one approval with that one instance, found (not made again) by the
 * reconciler's retry of the stranded approval, and it is decided normally.
 */
export async function expectLostCreateToEndWithOneInstance(
  stack: Stack,
  backend: BackendProcess,
  im: LostCreateIm,
  mode: 'error' | 'drop',
) {
  const instanceIds = instanceIdsOf(stack, im);
  const before = new Set(await instanceIds());
  await sandboxControl(stack.sandbox, 'POST', `/${im.im}/answer-faults`, {
    route: im.createRoute,
    lose: mode === 'error' ? 'http500' : 'reset',
  });
  const { approval, token } = await openApproval(stack, backend, {
    template: im.template,
  });
  expect(approval).toMatchObject({ status: 'pending' });
  expect(approval.imInstanceId ?? undefined).toBeUndefined();
  const made = (await instanceIds()).filter(id => !before.has(id));
  expect(made).toHaveLength(1);

  const attached = await expectOneInstanceAttachedAndDecided(
    stack,
    backend,
    im,
    approval,
    token,
    { id: made[0], before },
  );
  expect(attached.timeline.map(e => e.type)).toEqual([
    'created',
    'im_error',
    'im_instance_created',
  ]);
  expect(attached.timeline.at(-1)).toMatchObject({
    source: 'reconciler',
    message: expect.stringMatching(/found/),
  });
}

/**
 * The backend is killed after the IM made the instance and before the answer reached it (the IM's
 * answer held back, the process killed meanwhile): after the restart the Action's retry with the same
 * idempotency key gets the approval recorded before the IM was called, the reconciler attaches the one
 * instance the IM made (found, not made again), and it is decided normally.
 */
export async function expectCrashDuringCreateToEndWithOneInstance(
  stack: Stack,
  backend: BackendProcess,
  im: LostCreateIm,
) {
  const instanceIds = instanceIdsOf(stack, im);
  const before = new Set(await instanceIds());
  await sandboxControl(stack.sandbox, 'POST', `/${im.im}/answer-faults`, {
    route: im.createRoute,
    delayMs: 10_000,
  });
  const request = { template: im.template, idempotencyKey: randomUUID() };
  const interrupted = openApproval(stack, backend, request).then(
    () => 'answered',
    () => 'interrupted',
  );
  const made = await eventually(
    async () => (await instanceIds()).filter(id => !before.has(id)),
    ids => ids.length > 0,
    15_000,
  );
  await backend.crashAndRestart();
  expect(await interrupted).toBe('interrupted');

  // The Action tries again with its key, as it does after any failed call: the approval recorded
  // before the IM was called, not a new one.
  const token = await oidcToken(stack);
  const retried = await api<Approval>(backend, 'POST', '/approvals', {
    token,
    body: { ...request, variables: { service: 'api', reason: 'release 1.2' } },
  });
  expect(retried.status).toBe(200);
  await expectOneInstanceAttachedAndDecided(
    stack,
    backend,
    im,
    retried.body,
    token,
    { id: made[0], before },
  );
}
