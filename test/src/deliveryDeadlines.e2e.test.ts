import type { ImDeliveryRecord } from '@im-approval/im-sandbox';
import {
  decideInSandbox,
  eventually,
  openApproval,
  readsSettled,
  waitFor,
} from './__testUtils__/flow';
import {
  dingtalkCallback,
  wecomCallback,
  type ImSetup,
} from './__testUtils__/ims';
import {
  getWithTimeline,
  sandboxControl,
  startStack,
  type Stack,
} from './__testUtils__/stack';

// Each IM's answer deadline for a pushed event, met by the real backend however slow the IM's own
// API is: DingTalk wants its answer within 1.5 s, WeCom within 5 s, and the sandbox counts a later
// answer as none and redelivers. The backend records the event, answers, and only then reads the
// instance. (Feishu's 3 s: feishuDelivery.e2e.) The reconciler runs rarely here, so only callbacks decide.

jest.setTimeout(120_000);

const SLOW_READS = [
  { setup: dingtalkCallback, readRoute: 'instance.get', delayMs: 5000 },
  { setup: wecomCallback, readRoute: 'oa.getapprovaldetail', delayMs: 7000 },
] as const satisfies ReadonlyArray<{
  setup: ImSetup;
  readRoute: string;
  delayMs: number;
}>;

describe('answer deadlines of DingTalk and WeCom (real backend on SQLite, sandbox over HTTP callbacks)', () => {
  let stack: Stack;
  const backend = () => stack.backends[0];

  beforeAll(async () => {
    stack = await startStack({
      database: 'sqlite',
      reconcileSeconds: 600,
      ims: SLOW_READS.map(({ setup }) => setup),
    });
  });
  afterAll(() => stack?.stop());

  /**
   * Opens an approval in `setup`'s IM, lets the backend finish reading the new instance, then
   * makes the next read through `readRoute` (the decision's) answer after `delayMs`.
   */
  const openWithSlowNextRead = async (
    setup: ImSetup,
    readRoute: string,
    delayMs: number,
  ) => {
    const opened = await openApproval(stack, backend(), {
      template: setup.template,
    });
    await readsSettled(stack, setup.im, readRoute);
    await sandboxControl(stack.sandbox, 'POST', `/${setup.im}/answer-faults`, {
      route: readRoute,
      delayMs,
    });
    return opened;
  };

  it.each(SLOW_READS)(
    '$setup.im: every event is acknowledged at its first attempt although the instance read takes $delayMs ms, and the decision applies',
    async ({ setup, readRoute, delayMs }) => {
      // The backend reads the instance to learn the decision: that read answers late.
      const { approval, token } = await openWithSlowNextRead(
        setup,
        readRoute,
        delayMs,
      );

      const waiting = waitFor(backend(), approval.id, token);
      const decidedAt = Date.now();
      await decideInSandbox(
        stack,
        approval.imInstanceId!,
        'approve',
        { userId: 'alice', comment: 'slow read' },
        setup.im,
      );
      expect((await waiting).body).toMatchObject({
        status: 'approved',
        decidedById: 'alice',
        comment: 'slow read',
      });
      // The read was slow: the decision could not have applied before it answered.
      expect(Date.now() - decidedAt).toBeGreaterThanOrEqual(delayMs - 100);

      const deliveries = await eventually(
        async () =>
          (
            await sandboxControl<ImDeliveryRecord[]>(
              stack.sandbox,
              'GET',
              `/${setup.im}/deliveries`,
            )
          ).filter(
            record =>
              record.instanceId === approval.imInstanceId &&
              record.outcome !== 'skipped',
          ),
        all =>
          all.length > 0 &&
          all.every(
            record =>
              record.outcome === 'delivered' || record.outcome === 'failed',
          ),
      );
      expect(
        deliveries.map(record => [record.attempt, record.outcome]),
      ).toEqual(deliveries.map(() => [1, 'delivered']));
    },
  );

  const KILLED_AFTER_ACK = [
    {
      setup: dingtalkCallback,
      readRoute: 'instance.get',
      // The instance's finish: acknowledged, so DingTalk will not send it again.
      isDecision: (record: ImDeliveryRecord) =>
        record.eventType === 'bpms_instance_change' &&
        record.eventStatus === 'finish agree',
    },
    {
      setup: wecomCallback,
      readRoute: 'oa.getapprovaldetail',
      isDecision: (record: ImDeliveryRecord) =>
        record.eventType === 'sys_approval_change' &&
        record.eventStatus.startsWith('SpStatus 2 '),
    },
  ] as const;

  it.each(KILLED_AFTER_ACK)(
    '$setup.im: a backend killed right after acknowledging the decision applies it from its inbox once restarted',
    async ({ setup, readRoute, isDecision }) => {
      // The killed process's read of the instance never comes back in time: only the inbox is left.
      const { approval, token } = await openWithSlowNextRead(
        setup,
        readRoute,
        30_000,
      );
      await decideInSandbox(
        stack,
        approval.imInstanceId!,
        'approve',
        { userId: 'alice', comment: 'acknowledged, then killed' },
        setup.im,
      );
      await eventually(
        async () =>
          (
            await sandboxControl<ImDeliveryRecord[]>(
              stack.sandbox,
              'GET',
              `/${setup.im}/deliveries`,
            )
          ).filter(
            record =>
              record.instanceId === approval.imInstanceId &&
              isDecision(record) &&
              record.outcome === 'delivered',
          ),
        acknowledged => acknowledged.length === 1,
      );
      expect(
        (await getWithTimeline(backend(), approval.id, token)).body.status,
      ).toBe('pending');

      await backend().crashAndRestart();
      const decided = await eventually(
        async () => (await getWithTimeline(backend(), approval.id, token)).body,
        body => body.status !== 'pending',
        60_000,
      );
      expect(decided).toMatchObject({
        status: 'approved',
        decidedById: 'alice',
        comment: 'acknowledged, then killed',
      });
      // From the recorded event, not the reconciler (which runs every 10 minutes here).
      expect(decided.timeline.at(-1)).toMatchObject({
        type: 'approved',
        source: 'callback',
      });
    },
  );
});
