import type { ImDeliveryRecord } from '@im-approval/im-sandbox';
import {
  decideInSandbox,
  eventually,
  openApproval,
  waitFor,
} from './__testUtils__/flow';
import {
  dingtalkCallback,
  dingtalkCorpRegistration,
} from './__testUtils__/ims';
import {
  expectCrashDuringCreateToEndWithOneInstance,
  expectLostCreateToEndWithOneInstance,
  type LostCreateIm,
} from './__testUtils__/lostCreate';
import {
  getWithTimeline,
  sandboxControl,
  startStack,
  type Stack,
} from './__testUtils__/stack';

// DingTalk tenants as they are: no idempotency key on create, minute-precision dates, older registrations.
jest.setTimeout(120_000);

/** How this suite's IM creates, and how the sandbox lists what it made. */
const DINGTALK_CREATE: LostCreateIm = {
  im: 'dingtalk',
  idField: 'processInstanceId',
  createRoute: 'instance.create',
  template: dingtalkCallback.template,
  approver: 'alice',
};

/** Approvers written as people write mobiles: with +86 or 0086, spaces and dashes. */
const MOBILES_TEMPLATE = {
  ...dingtalkCallback.templateConfig,
  name: 'deploy-dingtalk-mobiles',
  integration: dingtalkCallback.integrationId,
  approvers: ['+86 138-0000-0001', '138 0000 0002'],
};

describe('DingTalk tenant behaviour end to end (real backend, DingTalk sandbox)', () => {
  let stack: Stack;
  const backend = () => stack.backends[0];

  beforeAll(async () => {
    stack = await startStack({
      database: 'sqlite',
      reconcileSeconds: 1,
      ims: [dingtalkCallback, dingtalkCorpRegistration],
      templates: [MOBILES_TEMPLATE],
    });
  });
  afterAll(() => stack?.stop());

  it('a create whose answer was lost after DingTalk made the instance ends as one approval with that one instance, decided normally', () =>
    expectLostCreateToEndWithOneInstance(
      stack,
      backend(),
      DINGTALK_CREATE,
      'error',
    ));

  it('a backend killed after DingTalk made the instance and before its answer arrived ends, restarted, with one approval and that one instance', () =>
    expectCrashDuringCreateToEndWithOneInstance(
      stack,
      backend(),
      DINGTALK_CREATE,
    ));

  it("dates a decision when it was made, though DingTalk writes its dates to the minute: never the minute's start, never before the request", async () => {
    const { approval, token } = await openApproval(stack, backend(), {
      template: dingtalkCallback.template,
    });
    await new Promise(resolve => setTimeout(resolve, 1500));
    const waiting = waitFor(backend(), approval.id, token);
    await decideInSandbox(
      stack,
      approval.imInstanceId!,
      'approve',
      { userId: 'alice' },
      'dingtalk',
    );
    const decided = (await waiting).body;
    expect(decided.status).toBe('approved');
    const age = Date.parse(decided.decidedAt!) - Date.parse(approval.createdAt);
    expect(age).toBeGreaterThanOrEqual(1400);
    expect(Date.parse(decided.decidedAt!)).toBeLessThanOrEqual(Date.now());
  });

  it('looks approvers up by mobile as the IM keeps them: bare digits, without +86, spaces or dashes', async () => {
    const { approval } = await openApproval(stack, backend(), {
      template: MOBILES_TEMPLATE.name,
    });
    expect(approval.imInstanceId).toBeTruthy();
    const made = await sandboxControl(
      stack.sandbox,
      'GET',
      `/dingtalk/instances/${encodeURIComponent(approval.imInstanceId!)}`,
    );
    expect(made.approvers.map((a: { userId: string }) => a.userId)).toEqual([
      'alice',
      'bob',
    ]);
  });

  it('takes callbacks of an older corp-level registration: encrypted for the CorpId (the receiveId option), timestamps in seconds', async () => {
    const { approval, token } = await openApproval(stack, backend(), {
      template: dingtalkCorpRegistration.template,
    });
    const waiting = waitFor(backend(), approval.id, token);
    await decideInSandbox(
      stack,
      approval.imInstanceId!,
      'approve',
      { userId: 'alice', comment: 'corp' },
      'dingtalk',
    );
    expect((await waiting).body).toMatchObject({
      status: 'approved',
      comment: 'corp',
    });
    const { body } = await getWithTimeline(backend(), approval.id, token);
    // The reconciler passes every second here and may record the decision first on a busy machine;
    // that the backend took the corp-level callbacks is what DingTalk's delivery log says.
    expect(body.timeline.at(-1)).toMatchObject({
      type: 'approved',
      source: expect.stringMatching(/^(callback|reconciler)$/),
    });
    const answered = await eventually(
      async () =>
        (
          await sandboxControl<ImDeliveryRecord[]>(
            stack.sandbox,
            'GET',
            '/dingtalk/deliveries',
          )
        ).filter(
          d =>
            d.instanceId === approval.imInstanceId &&
            d.eventStatus !== 'start' &&
            d.attempt > 0,
        ),
      found => found.length > 0,
    );
    expect(answered.length).toBeGreaterThan(0);
    expect(answered.map(d => d.outcome)).toEqual(
      answered.map(() => 'delivered'),
    );
  });

  it("keeps a burst of creations within DingTalk's 20 calls a second per API: every approval gets its instance at once, none is throttled", async () => {
    const fifteenAtOnce = () =>
      Promise.all(
        Array.from({ length: 15 }, () =>
          openApproval(stack, backend(), {
            template: dingtalkCallback.template,
          }),
        ),
      );
    const opened = [
      ...(await fifteenAtOnce()),
      ...(await fifteenAtOnce()),
      ...(await fifteenAtOnce()),
    ];
    const refused = opened.filter(
      ({ approval }) => !approval.imInstanceId || approval.error,
    );
    expect(refused.map(({ approval }) => approval.error)).toEqual([]);
    expect(
      new Set(opened.map(({ approval }) => approval.imInstanceId)).size,
    ).toBe(45);
  });

  it("rides out DingTalk's flow control (HTTP 403 QpsLimitForAppkeyAndApi) on create: the throttled approval gets its instance on a later try", async () => {
    await sandboxControl(stack.sandbox, 'POST', '/dingtalk/rate-limit', {
      qpsPerApi: 1,
    });
    try {
      const first = await openApproval(stack, backend(), {
        template: dingtalkCallback.template,
      });
      const second = await openApproval(stack, backend(), {
        template: dingtalkCallback.template,
      });
      expect(first.approval.imInstanceId).toBeTruthy();
      expect(second.approval).toMatchObject({
        status: 'pending',
        error: expect.stringMatching(/QpsLimitForAppkeyAndApi/),
      });
      const retried = await eventually(
        async () =>
          (await getWithTimeline(backend(), second.approval.id, second.token))
            .body,
        body => Boolean(body.imInstanceId),
        60_000,
      );
      expect(retried.status).toBe('pending');
      expect(retried.imInstanceId).not.toBe(first.approval.imInstanceId);
    } finally {
      await sandboxControl(stack.sandbox, 'POST', '/dingtalk/rate-limit', {
        qpsPerApi: null,
      });
    }
  });
});
