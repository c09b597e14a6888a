import { decideInSandbox, eventually, openApproval, waitFor } from './flow';
import type { BackendProcess } from './backendProcess';
import { getWithTimeline, sandboxControl, type Stack } from './stack';

/** An IM without an idempotency key on create, and how its sandbox names its instances. */
export interface LostCreateIm {
  im: 'dingtalk' | 'wecom';
  /** The id field of the sandbox's instance views. */
  idField: 'processInstanceId' | 'spNo';
  /** The sandbox's route of the create call. */
  createRoute: 'instance.create' | 'oa.applyevent';
  template: string;
  /** Who approves in the IM. */
  approver: string;
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
  const instanceIds = async () =>
    (
      await sandboxControl<Array<Record<string, string>>>(
        stack.sandbox,
        'GET',
        `/${im.im}/instances`,
      )
    ).map(view => view[im.idField]);
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

  // The reconciler retries a stranded approval after 30 s: it finds the instance instead of making another.
  const attached = await eventually(
    async () => (await getWithTimeline(backend, approval.id, token)).body,
    body => Boolean(body.imInstanceId),
    60_000,
  );
  expect(attached.imInstanceId).toBe(made[0]);
  expect((await instanceIds()).filter(id => !before.has(id))).toEqual(made);
  expect(attached.timeline.map(e => e.type)).toEqual([
    'created',
    'im_error',
    'im_instance_created',
  ]);
  expect(attached.timeline.at(-1)).toMatchObject({
    source: 'reconciler',
    message: expect.stringMatching(/found/),
  });

  const waiting = waitFor(backend, approval.id, token);
  await decideInSandbox(
    stack,
    made[0],
    'approve',
    { userId: im.approver, comment: 'once' },
    im.im,
  );
  expect((await waiting).body).toMatchObject({
    status: 'approved',
    comment: 'once',
  });
}
