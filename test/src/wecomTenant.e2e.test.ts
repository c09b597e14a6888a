import { decideInSandbox, openApproval, waitFor } from './__testUtils__/flow';
import { wecomCallback } from './__testUtils__/ims';
import {
  expectCrashDuringCreateToEndWithOneInstance,
  expectLostCreateToEndWithOneInstance,
  type LostCreateIm,
} from './__testUtils__/lostCreate';
import { sandboxControl, startStack, type Stack } from './__testUtils__/stack';

// WeCom tenants as they are: no idempotency key on create, tenants without WeCom Mail, the current detail shape.
jest.setTimeout(120_000);

/** How this suite's IM creates, and how the sandbox lists what it made. */
const WECOM_CREATE: LostCreateIm = {
  im: 'wecom',
  idField: 'spNo',
  createRoute: 'oa.applyevent',
  template: wecomCallback.template,
  approver: 'bob',
};

/** Approvers written as people write mobiles: with +86 or 0086, spaces and dashes. */
const MOBILES_TEMPLATE = {
  ...wecomCallback.templateConfig,
  name: 'deploy-wecom-mobiles',
  integration: wecomCallback.integrationId,
  approvers: ['+86 138-0000-0001', '0086-138-0000-0002'],
};

describe('WeCom tenant behaviour end to end (real backend, WeCom sandbox)', () => {
  let stack: Stack;
  const backend = () => stack.backends[0];

  beforeAll(async () => {
    stack = await startStack({
      database: 'sqlite',
      reconcileSeconds: 1,
      ims: [wecomCallback],
      templates: [MOBILES_TEMPLATE],
    });
  });
  afterAll(() => stack?.stop());

  it('an applyevent whose connection dropped after WeCom made the request ends as one approval with that one request, decided normally', () =>
    expectLostCreateToEndWithOneInstance(
      stack,
      backend(),
      WECOM_CREATE,
      'drop',
    ));

  it('a backend killed after WeCom made the request and before its answer arrived ends, restarted, with one approval and that one request', () =>
    expectCrashDuringCreateToEndWithOneInstance(
      stack,
      backend(),
      WECOM_CREATE,
    ));

  it('sends summary lines within the documented 20 characters, and reads decisions in the current shape and, for older tenants, the legacy one', async () => {
    for (const shape of ['current', 'legacy'] as const) {
      await sandboxControl(stack.sandbox, 'POST', '/wecom/detail-shape', {
        shape,
      });
      try {
        const { approval, token } = await openApproval(stack, backend(), {
          template: wecomCallback.template,
        });
        const made = await sandboxControl<{ summary: string[] }>(
          stack.sandbox,
          'GET',
          `/wecom/instances/${approval.imInstanceId}`,
        );
        expect(made.summary[0]).toBe('Deploy api from acm…');
        for (const line of made.summary)
          expect([...line].length).toBeLessThanOrEqual(20);
        const waiting = waitFor(backend(), approval.id, token);
        await decideInSandbox(
          stack,
          approval.imInstanceId!,
          'reject',
          { userId: 'alice', comment: `no (${shape})` },
          'wecom',
        );
        expect((await waiting).body).toMatchObject({
          status: 'rejected',
          decidedBy: 'Alice Chen',
          decidedById: 'alice',
          comment: `no (${shape})`,
        });
      } finally {
        await sandboxControl(stack.sandbox, 'POST', '/wecom/detail-shape', {
          shape: 'current',
        });
      }
    }
  });

  it('looks approvers up by mobile as the IM keeps them: bare digits, without +86, spaces or dashes', async () => {
    const { approval } = await openApproval(stack, backend(), {
      template: MOBILES_TEMPLATE.name,
    });
    expect(approval.imInstanceId).toBeTruthy();
    const made = await sandboxControl(
      stack.sandbox,
      'GET',
      `/wecom/instances/${encodeURIComponent(approval.imInstanceId!)}`,
    );
    expect(made.approvers.map((a: { userId: string }) => a.userId)).toEqual([
      'alice',
      'bob',
    ]);
  });
});
