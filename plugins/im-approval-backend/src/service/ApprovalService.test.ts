import {
  formValueSchema,
  type ParsedCreateApprovalRequest,
} from '@im-approval/plugin-im-approval-common';
import { ImApiError } from '@im-approval/plugin-im-approval-node';
import type { Caller } from '../auth/CallerResolver';
import { scriptedCore, template } from './__testUtils__/scriptedIm';

const workflow = (claims: Record<string, string> = {}): Caller => ({
  kind: 'github',
  id: `github:${claims.repository ?? 'acme/api'}`,
  context: {
    repository: 'acme/api',
    ref: 'refs/heads/main',
    environment: 'production',
    runId: '1',
    ...claims,
  },
});

const request = (
  overrides: Partial<ParsedCreateApprovalRequest> = {},
): ParsedCreateApprovalRequest => ({
  template: 'deploy',
  idempotencyKey: 'run-1',
  variables: {},
  ...overrides,
});

describe('ApprovalService', () => {
  it('opens one approval and one IM instance per caller and key, and answers a repeat with it', async () => {
    const { service, im } = await scriptedCore();
    const first = await service.create(request(), workflow());
    const again = await service.create(request(), workflow());
    expect(first).toMatchObject({
      created: true,
      approval: { status: 'pending', imInstanceId: 'inst-1' },
    });
    expect(again).toEqual({ created: false, approval: first.approval });
    expect(im.count('createInstance')).toBe(1);
  });

  it("records the IM's label of each field with the instance, as one line of text within a field name's size", async () => {
    const { service, im, store } = await scriptedCore({
      templates: [
        template({
          fields: { Service: 'api', widget_reason: 'hotfix', widget_run: '7' },
        }),
      ],
    });
    im.labels = new Map([
      ['Service', 'Service'],
      ['widget_reason', ' Reason\n\u0000for it '],
      // Astral characters count twice in UTF-16, as the schema's bound does.
      ['widget_run', '🚀'.repeat(300)],
    ]);
    const { approval } = await service.create(request(), workflow());
    const form = [
      { field: 'Service', value: 'api', label: 'Service' },
      { field: 'widget_reason', value: 'hotfix', label: 'Reason for it' },
      {
        field: 'widget_run',
        value: '7',
        label: `${'🚀'.repeat(127)}…`,
      },
    ];
    expect(approval.form).toEqual(form);
    expect((await store.get(approval.id))?.form).toEqual(form);
    expect(formValueSchema.array().parse(form)).toEqual(form);
  });

  it('keeps the form as sent when the IM tells no labels', async () => {
    const { service } = await scriptedCore({
      templates: [template({ fields: { Service: 'api' } })],
    });
    const { approval } = await service.create(request(), workflow());
    expect(approval.form).toEqual([{ field: 'Service', value: 'api' }]);
  });

  it('checks the policy before the key: a forbidden environment never gets the approval behind a known key', async () => {
    const { service, im } = await scriptedCore();
    await service.create(request(), workflow());
    await expect(
      service.create(request(), workflow({ environment: 'dev' })),
    ).rejects.toMatchObject({
      name: 'NotAllowedError',
      message: expect.stringMatching(
        /does not allow environment "dev" \(verified\)/,
      ),
    });
    expect(im.count('createInstance')).toBe(1);
  });

  it('refuses a reused key with another request, naming what differs', async () => {
    const { service } = await scriptedCore({
      templates: [template({ allowApproverOverride: true })],
    });
    await service.create(request(), workflow());
    await expect(
      service.create(request({ approvers: ['bob'], title: 'x' }), workflow()),
    ).rejects.toMatchObject({
      statusCode: 422,
      message: expect.stringMatching(/differs in approvers, title\)/),
    });
  });

  it('gives another caller its own approval under the same key', async () => {
    const { service } = await scriptedCore();
    const mine = await service.create(request(), workflow());
    const theirs = await service.create(
      request(),
      workflow({ repository: 'acme/web' }),
    );
    expect(theirs.created).toBe(true);
    expect(theirs.approval.id).not.toBe(mine.approval.id);
  });

  it('wakes a waiter the moment the approval is decided', async () => {
    const { service, transitions, store } = await scriptedCore();
    const { approval } = await service.create(request(), workflow());
    const waiting = service.wait(approval.id, 30);
    await new Promise(r => setTimeout(r, 50));
    const reads = jest.spyOn(store, 'get');
    await transitions.finish(
      approval,
      { status: 'approved', decidedBy: { id: 'u-alice', name: 'Alice' } },
      { type: 'approved', source: 'callback' },
      { revoke: false },
    );
    // Woken, not timed out: the 30 s poll would outlast the test's own timeout.
    expect(await waiting).toMatchObject({
      status: 'approved',
      decidedBy: 'Alice',
      decidedById: 'u-alice',
    });
    expect(reads).toHaveBeenCalledTimes(1);
  });

  it('answers a waiter whose notification was lost at the next recheck, and leaves the other waiters parked', async () => {
    const { service, store, knex } = await scriptedCore({ recheckMs: 100 });
    const { approval } = await service.create(request(), workflow());
    const other = await service.create(
      request({ idempotencyKey: 'another' }),
      workflow(),
    );
    const waiting = service.wait(approval.id, 30);
    const otherWaiting = service.wait(other.approval.id, 1);
    await new Promise(r => setTimeout(r, 50));
    const reads = jest.spyOn(store, 'get');
    // Written as another replica would, its notification lost on the way.
    await knex('im_approval_approvals').where({ id: approval.id }).update({
      status: 'approved',
      decided_by: 'Alice',
      updated_at: new Date(),
    });
    const started = Date.now();
    await expect(waiting).resolves.toMatchObject({ status: 'approved' });
    expect(Date.now() - started).toBeLessThan(5_000);
    await expect(otherWaiting).resolves.toMatchObject({ status: 'pending' });
    // Only the changed approval's waiter read it again.
    expect(reads.mock.calls.map(([id]) => id)).toEqual([approval.id]);
  });

  it('reads a parked poll once: at its start, not again when it ends with nothing changed', async () => {
    const { service, store } = await scriptedCore();
    const { approval } = await service.create(request(), workflow());
    const reads = jest.spyOn(store, 'get');
    expect(await service.wait(approval.id, 1)).toMatchObject({
      status: 'pending',
    });
    expect(reads).toHaveBeenCalledTimes(1);
  });

  it('lets the caller refuse the approval it read before anything is waited for', async () => {
    const { service } = await scriptedCore();
    const { approval } = await service.create(request(), workflow());
    const refuse = async () => {
      throw new Error('not yours');
    };
    const onHold = jest.fn();
    await expect(
      service.wait(approval.id, 30, { authorize: refuse, onHold }),
    ).rejects.toThrow('not yours');
    expect(onHold).not.toHaveBeenCalled();
  });

  it('says once that it holds the wait, and only when the approval is still pending', async () => {
    const { service, transitions } = await scriptedCore();
    const { approval } = await service.create(request(), workflow());
    const onHold = jest.fn();
    const waiting = service.wait(approval.id, 30, { onHold });
    await new Promise(r => setTimeout(r, 50));
    expect(onHold).toHaveBeenCalledTimes(1);
    await transitions.finish(
      approval,
      { status: 'approved', decidedBy: { id: 'u-alice', name: 'Alice' } },
      { type: 'approved', source: 'callback' },
      { revoke: false },
    );
    await expect(waiting).resolves.toMatchObject({ status: 'approved' });
    expect(onHold).toHaveBeenCalledTimes(1);

    const decided = jest.fn();
    await service.wait(approval.id, 30, { onHold: decided });
    expect(decided).not.toHaveBeenCalled();
  });

  it('expires an approval past its deadline while someone waits, and revokes its IM instance', async () => {
    const { service, im } = await scriptedCore();
    const { approval } = await service.create(
      request({ timeout: 1 }),
      workflow(),
    );
    expect(await service.wait(approval.id, 30)).toMatchObject({
      status: 'expired',
    });
    expect(im.count('cancelInstance')).toBe(1);
  });

  it('keeps a transiently failed IM request pending with the error, and fails one the IM refuses for good', async () => {
    const { service, im } = await scriptedCore();
    im.failNext(
      'createInstance',
      new ImApiError('unavailable', 'Feishu answered 503'),
      new ImApiError('not_found', 'no such form'),
    );
    const transient = await service.create(
      request({ idempotencyKey: 'a' }),
      workflow(),
    );
    expect(transient.approval).toMatchObject({
      status: 'pending',
      imInstanceId: null,
      error: 'Feishu answered 503',
    });
    const permanent = await service.create(
      request({ idempotencyKey: 'b' }),
      workflow(),
    );
    expect(permanent.approval).toMatchObject({
      status: 'failed',
      error: 'no such form',
    });
  });

  it('lets one of two racing decisions win; the loser sees a conflict and nothing is revoked twice', async () => {
    const { service, im } = await scriptedCore();
    const { approval } = await service.create(request(), workflow());
    const admin: Caller = {
      kind: 'user',
      id: 'user:default/ada',
      credentials: {} as never,
    };
    const results = await Promise.allSettled([
      service.decide(approval.id, admin, {
        decision: 'approved',
        comment: 'ok',
      }),
      service.decide(approval.id, admin, {
        decision: 'rejected',
        comment: 'no',
      }),
    ]);
    expect(results.map(r => r.status).sort()).toEqual([
      'fulfilled',
      'rejected',
    ]);
    expect(results.find(r => r.status === 'rejected')).toMatchObject({
      reason: { name: 'ConflictError' },
    });
    expect(im.count('cancelInstance')).toBe(1);
  });
});
