import type { ImDeliveryRecord } from '@im-approval/im-sandbox';
import { WxBizMsgCrypt } from '@im-approval/plugin-im-approval-node';
import {
  decideInSandbox,
  dropConnectionWhenIdle,
  eventually,
  openApproval,
  waitFor,
} from './__testUtils__/flow';
import {
  DINGTALK_APP,
  DINGTALK_STREAM_APP,
  dingtalkCallback,
  dingtalkStream,
  withUsers,
} from './__testUtils__/ims';
import {
  api,
  getWithTimeline,
  sandboxControl,
  startStack,
  type Stack,
} from './__testUtils__/stack';

jest.setTimeout(120_000);

/** Someone outside the template's approvers, to whom a task can be handed on in DingTalk. */
const CAROL = { userId: 'carol', name: 'Carol Wu', mobile: '13800000003' };

describe('DingTalk end to end (real backend, DingTalk sandbox over HTTP and Stream)', () => {
  let stack: Stack;
  const backend = () => stack.backends[0];
  const instance = (id: string) =>
    sandboxControl(
      stack.sandbox,
      'GET',
      `/dingtalk/instances/${encodeURIComponent(id)}`,
    );
  const deliveries = async (appKey: string, instanceId: string) =>
    (
      await sandboxControl<ImDeliveryRecord[]>(
        stack.sandbox,
        'GET',
        '/dingtalk/deliveries',
      )
    ).filter(d => d.appId === appKey && d.instanceId === instanceId);
  const streamConnected = () =>
    eventually(
      () =>
        sandboxControl<Array<{ appId: string; connections: number }>>(
          stack.sandbox,
          'GET',
          '/dingtalk/stream',
        ),
      views =>
        views.some(
          v => v.appId === DINGTALK_STREAM_APP.appKey && v.connections === 1,
        ),
    );

  beforeAll(async () => {
    stack = await startStack({
      database: 'sqlite',
      reconcileSeconds: 2,
      ims: [
        withUsers(dingtalkCallback, CAROL),
        withUsers(dingtalkStream, CAROL),
      ],
    });
    await streamConnected();
  });
  afterAll(() => stack?.stop());

  describe.each([
    ['HTTP callbacks', dingtalkCallback, DINGTALK_APP, 'callback'],
    [
      'the Stream connection',
      dingtalkStream,
      DINGTALK_STREAM_APP,
      'connection',
    ],
  ] as const)('over %s', (_, setup, app, source) => {
    const open = () =>
      openApproval(stack, backend(), { template: setup.template });

    it('opens an instance with the mapped form and approvers, and applies the approval with approver and remark', async () => {
      const { approval, token } = await open();
      expect(approval).toMatchObject({
        status: 'pending',
        provider: 'dingtalk',
        integration: setup.integrationId,
      });
      // The link people open: the integration's, with the processInstanceId in it; the sandbox's page is there.
      expect(approval.imUrl).toBe(
        `${stack.sandbox.url}/dingtalk/instances/${encodeURIComponent(approval.imInstanceId!)}`,
      );
      const page = await fetch(approval.imUrl!, { redirect: 'manual' });
      expect(page.status).toBe(302);
      const opened = await instance(approval.imInstanceId!);
      expect(opened).toMatchObject({
        status: 'RUNNING',
        appKey: app.appKey,
        originatorUserId: 'releasebot',
      });
      expect(opened.form).toEqual([
        { name: 'Service', value: 'api' },
        { name: 'Reason', value: 'release 1.2' },
        {
          name: 'Run',
          value: 'https://github.com/acme/api/actions/runs/1001/attempts/1',
        },
      ]);
      expect(
        opened.approvers.map((a: { userId: string; actionType: string }) => [
          a.userId,
          a.actionType,
        ]),
      ).toEqual([
        ['alice', 'OR'],
        ['bob', 'OR'],
      ]);

      const waiting = waitFor(backend(), approval.id, token);
      await decideInSandbox(
        stack,
        approval.imInstanceId!,
        'approve',
        { userId: 'alice', comment: 'ship it' },
        'dingtalk',
      );
      expect((await waiting).body).toMatchObject({
        status: 'approved',
        decidedBy: 'Alice Chen',
        decidedById: 'alice',
        comment: 'ship it',
      });
      const { body } = await getWithTimeline(backend(), approval.id, token);
      // The reconciler passes every 2 s and may read the decision first; either way it is recorded
      // once, and DingTalk's delivery of it over this channel is acknowledged.
      expect(body.timeline.filter(event => event.type === 'approved')).toEqual([
        expect.objectContaining({
          source: expect.stringMatching(new RegExp(`^(${source}|reconciler)$`)),
        }),
      ]);
      const acknowledged = (all: ImDeliveryRecord[]) =>
        all.some(d => d.outcome === 'delivered' && d.eventStatus !== 'start');
      expect(
        acknowledged(
          await eventually(
            () => deliveries(app.appKey, approval.imInstanceId!),
            acknowledged,
          ),
        ),
      ).toBe(true);
      // Each value with the sandbox form's component label, whether the template named it by label or by id.
      expect(body.form).toEqual([
        { field: 'Service', value: 'api', label: 'Service' },
        {
          field: 'TextareaField_reason',
          value: 'release 1.2',
          label: 'Reason',
        },
        {
          field: 'Run',
          value: 'https://github.com/acme/api/actions/runs/1001/attempts/1',
          label: 'Run',
        },
      ]);
    });

    it('returns a rejection with its remark', async () => {
      const { approval, token } = await open();
      const waiting = waitFor(backend(), approval.id, token);
      await decideInSandbox(
        stack,
        approval.imInstanceId!,
        'reject',
        { userId: 'bob', comment: 'not on a Friday' },
        'dingtalk',
      );
      expect((await waiting).body).toMatchObject({
        status: 'rejected',
        decidedBy: 'Bob Li',
        decidedById: 'bob',
        comment: 'not on a Friday',
      });
    });

    it('attributes a decision to whoever decided a task handed on in DingTalk (转交), not to who was asked, and the timeline says who handed it on', async () => {
      const { approval, token } = await open();
      await sandboxControl(
        stack.sandbox,
        'POST',
        `/dingtalk/instances/${encodeURIComponent(approval.imInstanceId!)}/redirect`,
        { fromUserId: 'bob', toUserId: 'carol', remark: 'on leave' },
      );
      const waiting = waitFor(backend(), approval.id, token);
      await decideInSandbox(
        stack,
        approval.imInstanceId!,
        'approve',
        { userId: 'carol', comment: 'covering for bob' },
        'dingtalk',
      );
      expect((await waiting).body).toMatchObject({
        status: 'approved',
        decidedBy: 'Carol Wu',
        decidedById: 'carol',
        comment: 'covering for bob',
      });
      // DingTalk's REDIRECT_TASK record says who handed it on and why, not to whom.
      const { body } = await getWithTimeline(backend(), approval.id, token);
      expect(body.timeline.find(e => e.type === 'approved')).toMatchObject({
        actor: 'Carol Wu',
        message:
          'covering for bob; in dingtalk: "Bob Li" handed the task on ("on leave")',
      });
    });

    it('attributes a decision to an approver added in DingTalk (加签), and the timeline says who added approvers and why', async () => {
      const { approval, token } = await open();
      await sandboxControl(
        stack.sandbox,
        'POST',
        `/dingtalk/instances/${encodeURIComponent(approval.imInstanceId!)}/append`,
        { byUserId: 'alice', userIds: ['carol'], remark: 'security review' },
      );
      const waiting = waitFor(backend(), approval.id, token);
      await decideInSandbox(
        stack,
        approval.imInstanceId!,
        'approve',
        { userId: 'carol', comment: 'reviewed' },
        'dingtalk',
      );
      expect((await waiting).body).toMatchObject({
        status: 'approved',
        decidedBy: 'Carol Wu',
        decidedById: 'carol',
      });
      // DingTalk's APPEND_TASK_BEFORE record says who added approvers and why, not whom.
      const { body } = await getWithTimeline(backend(), approval.id, token);
      expect(body.timeline.find(e => e.type === 'approved')).toMatchObject({
        actor: 'Carol Wu',
        message:
          'reviewed; in dingtalk: "Alice Chen" added approvers ("security review")',
      });
    });

    it('cancels and terminates the DingTalk instance', async () => {
      const { approval, token } = await open();
      const canceled = await api(
        backend(),
        'POST',
        `/approvals/${approval.id}/cancel`,
        { token, body: { reason: 'job canceled' } },
      );
      expect(canceled.body.status).toBe('canceled');
      expect((await instance(approval.imInstanceId!)).status).toBe(
        'TERMINATED',
      );
      const { body } = await getWithTimeline(backend(), approval.id, token);
      expect(body.timeline.map(e => e.type)).toEqual([
        'created',
        'im_instance_created',
        'canceled',
        'im_instance_revoked',
      ]);
    });

    it('applies events delivered twice exactly once', async () => {
      const { approval, token } = await open();
      await decideInSandbox(
        stack,
        approval.imInstanceId!,
        'approve',
        { userId: 'alice', delivery: { duplicate: true } },
        'dingtalk',
      );
      const decided = await eventually(
        async () =>
          (await deliveries(app.appKey, approval.imInstanceId!)).filter(
            d => d.outcome === 'delivered' && d.eventStatus !== 'start',
          ),
        all =>
          all.length >= 2 &&
          all.length === 2 * new Set(all.map(d => d.eventId)).size,
      );
      expect(decided.length).toBe(
        2 * new Set(decided.map(d => d.eventId)).size,
      );
      // Acknowledged once recorded; applied right after.
      await waitFor(backend(), approval.id, token);
      const { body } = await getWithTimeline(backend(), approval.id, token);
      expect(body.status).toBe('approved');
      expect(body.timeline.filter(e => e.type === 'approved')).toHaveLength(1);
    });

    it('finds a decision whose events were lost, through the reconciler', async () => {
      await sandboxControl(
        stack.sandbox,
        'PATCH',
        `/dingtalk/apps/${app.appKey}`,
        { callbacks: 'off' },
      );
      try {
        const { approval, token } = await open();
        const waiting = waitFor(backend(), approval.id, token);
        await decideInSandbox(
          stack,
          approval.imInstanceId!,
          'approve',
          { userId: 'alice', comment: 'lost' },
          'dingtalk',
        );
        expect((await waiting).body).toMatchObject({
          status: 'approved',
          comment: 'lost',
        });
        const { body } = await getWithTimeline(backend(), approval.id, token);
        expect(body.timeline.at(-1)).toMatchObject({
          type: 'approved',
          source: 'reconciler',
        });
      } finally {
        await sandboxControl(
          stack.sandbox,
          'PATCH',
          `/dingtalk/apps/${app.appKey}`,
          { callbacks: 'on' },
        );
      }
    });
  });

  it('rejects forged, tampered and wrong-receiveId callbacks and changes nothing', async () => {
    const { approval, token } = await openApproval(stack, backend(), {
      template: dingtalkCallback.template,
    });
    const url = `${backend().api}/callbacks/dingtalk/${dingtalkCallback.integrationId}`;
    const event = JSON.stringify({
      EventType: 'bpms_instance_change',
      processInstanceId: approval.imInstanceId,
      type: 'finish',
      result: 'agree',
      eventId: 'forged-1',
    });
    const post = (
      crypt: WxBizMsgCrypt,
      tamper = (encrypt: string) => encrypt,
    ) => {
      const sealed = crypt.seal(event, String(Date.now()), 'nonce1');
      const query = new URLSearchParams({
        signature: sealed.signature,
        timestamp: sealed.timestamp,
        nonce: sealed.nonce,
      });
      return fetch(`${url}?${query}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ encrypt: tamper(sealed.encrypt) }),
      });
    };
    const genuine = {
      token: DINGTALK_APP.token,
      encodingAesKey: DINGTALK_APP.aesKey,
      receiveId: DINGTALK_APP.appKey,
    };
    expect(
      (await post(new WxBizMsgCrypt({ ...genuine, token: 'guessed' }))).status,
    ).toBe(401);
    expect(
      (await post(new WxBizMsgCrypt(genuine), e => `${e.slice(0, -8)}AAAAAAA=`))
        .status,
    ).toBe(401);
    expect(
      (
        await post(
          new WxBizMsgCrypt({
            ...genuine,
            receiveId: DINGTALK_STREAM_APP.appKey,
          }),
        )
      ).status,
    ).toBe(400);

    const { body } = await getWithTimeline(backend(), approval.id, token);
    expect(body.status).toBe('pending');
    expect(body.timeline.map(e => e.type)).toEqual([
      'created',
      'im_instance_created',
    ]);
  });

  it('answers check_url with the encrypted success the sandbox verifies', async () => {
    await expect(
      sandboxControl(
        stack.sandbox,
        'POST',
        `/dingtalk/apps/${DINGTALK_APP.appKey}/check-url`,
      ),
    ).resolves.toEqual({ ok: true });
  });

  it('loses no event when the sandbox drops the Stream connection: the backend reconnects and the queued event is applied', async () => {
    const { approval, token } = await openApproval(stack, backend(), {
      template: dingtalkStream.template,
    });
    const dropped = await dropConnectionWhenIdle(
      stack,
      '/dingtalk/stream',
      DINGTALK_STREAM_APP.appKey,
    );
    expect(dropped).toEqual({ closed: 1 });
    const waiting = waitFor(backend(), approval.id, token);
    await decideInSandbox(
      stack,
      approval.imInstanceId!,
      'reject',
      { userId: 'bob', comment: 'while down' },
      'dingtalk',
    );
    expect((await waiting).body).toMatchObject({
      status: 'rejected',
      comment: 'while down',
    });
    const log = await eventually(
      async () =>
        (
          await deliveries(DINGTALK_STREAM_APP.appKey, approval.imInstanceId!)
        ).filter(
          d =>
            d.eventType === 'bpms_instance_change' &&
            d.eventStatus.startsWith('finish'),
        ),
      all => all.some(d => d.outcome === 'delivered'),
    );
    expect(log.map(d => d.outcome)).toEqual(['queued', 'delivered']);
    await streamConnected();
  });
});
