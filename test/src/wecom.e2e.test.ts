import type { ImDeliveryRecord } from '@im-approval/im-sandbox';
import { WxBizMsgCrypt } from '@im-approval/plugin-im-approval-node';
import {
  decideInSandbox,
  eventually,
  openApproval,
  waitFor,
} from './__testUtils__/flow';
import {
  WECOM_APP,
  WECOM_CORP_ID,
  WECOM_POLL_APP,
  wecomCallback,
  wecomPoll,
} from './__testUtils__/ims';
import {
  api,
  getWithTimeline,
  sandboxControl,
  startStack,
  type Stack,
} from './__testUtils__/stack';

jest.setTimeout(60_000);

const GENUINE = {
  token: WECOM_APP.token,
  encodingAesKey: WECOM_APP.encodingAesKey,
  receiveId: WECOM_CORP_ID,
};

/** A decrypted WeCom message: `sys_approval_change` for a request, or any other event. */
function eventXml(options: {
  event: string;
  spNo?: string;
  spStatus?: number;
}) {
  const approval =
    options.spNo === undefined
      ? ''
      : `<ApprovalInfo><SpNo>${options.spNo}</SpNo><SpStatus>${options.spStatus}</SpStatus><StatuChangeEvent>2</StatuChangeEvent></ApprovalInfo>`;
  return (
    `<xml><ToUserName><![CDATA[${WECOM_CORP_ID}]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName>` +
    `<CreateTime>${Math.floor(Date.now() / 1000)}</CreateTime><MsgType><![CDATA[event]]></MsgType>` +
    `<Event><![CDATA[${options.event}]]></Event><AgentID>${WECOM_APP.agentId}</AgentID>${approval}</xml>`
  );
}

describe('WeCom end to end (real backend, WeCom sandbox over HTTP callbacks and polling)', () => {
  let stack: Stack;
  const backend = () => stack.backends[0];
  const callbackUrl = () =>
    `${backend().api}/callbacks/wecom/${wecomCallback.integrationId}`;
  const request = (spNo: string) =>
    sandboxControl(
      stack.sandbox,
      'GET',
      `/wecom/instances/${encodeURIComponent(spNo)}`,
    );
  const deliveries = async (agentId: number, spNo: string) =>
    (
      await sandboxControl<ImDeliveryRecord[]>(
        stack.sandbox,
        'GET',
        '/wecom/deliveries',
      )
    ).filter(d => d.appId === String(agentId) && d.instanceId === spNo);
  const open = (setup = wecomCallback) =>
    openApproval(stack, backend(), { template: setup.template });
  const timelineOf = async (id: string, token: string) =>
    (await getWithTimeline(backend(), id, token)).body.timeline;

  /** POSTs `plaintext` as WeCom does: XML envelope, encrypted and signed with `crypt`; `tamper` edits the ciphertext after signing. */
  const postEvent = (
    crypt: WxBizMsgCrypt,
    plaintext: string,
    options: { tamper?: (encrypt: string) => string; timestamp?: number } = {},
  ) => {
    const sealed = crypt.seal(
      plaintext,
      String(options.timestamp ?? Math.floor(Date.now() / 1000)),
      '1372623149',
    );
    const encrypt = options.tamper
      ? options.tamper(sealed.encrypt)
      : sealed.encrypt;
    const query = new URLSearchParams({
      msg_signature: sealed.signature,
      timestamp: sealed.timestamp,
      nonce: sealed.nonce,
    });
    const body = `<xml><ToUserName><![CDATA[${WECOM_CORP_ID}]]></ToUserName><Encrypt><![CDATA[${encrypt}]]></Encrypt><AgentID><![CDATA[${WECOM_APP.agentId}]]></AgentID></xml>`;
    return fetch(`${callbackUrl()}?${query}`, {
      method: 'POST',
      headers: { 'content-type': 'text/xml' },
      body,
    });
  };

  beforeAll(async () => {
    // Slow enough that a reconciler pass rarely falls between a decision and its callback, quick
    // enough for the tests that wait for one.
    stack = await startStack({
      database: 'sqlite',
      reconcileSeconds: 3,
      ims: [wecomCallback, wecomPoll],
    });
  });
  afterAll(() => stack?.stop());

  describe('over HTTP callbacks', () => {
    it('makes the request with the mapped controls, approvers and summary, and applies the approval with the approver and speech', async () => {
      const { approval, token } = await open();
      expect(approval).toMatchObject({
        status: 'pending',
        provider: 'wecom',
        integration: wecomCallback.integrationId,
      });
      expect(approval.imUrl).toBe(
        `${stack.sandbox.url}/wecom/instances/${approval.imInstanceId}`,
      );
      const made = await request(approval.imInstanceId!);
      expect(made).toMatchObject({
        status: 'PENDING',
        agentId: WECOM_APP.agentId,
        applicantUserId: 'releasebot',
        templateId: 'C4NwNa8vE2eDeploy',
      });
      expect(made.form).toEqual([
        { id: 'Text-1', title: 'Service', value: 'api' },
        { id: 'Textarea-2', title: 'Reason', value: 'release 1.2' },
        {
          id: 'Text-3',
          title: 'Run',
          value: 'https://github.com/acme/api/actions/runs/1001/attempts/1',
        },
      ]);
      // GET /approvals/:id: each value with the title of the sandbox template's control, whether the template named it by title or by id.
      const { body: read } = await getWithTimeline(
        backend(),
        approval.id,
        token,
      );
      expect(read.form).toEqual([
        { field: 'Service', value: 'api', label: 'Service' },
        { field: 'Textarea-2', value: 'release 1.2', label: 'Reason' },
        {
          field: 'Run',
          value: 'https://github.com/acme/api/actions/runs/1001/attempts/1',
          label: 'Run',
        },
      ]);
      // Lines cut to WeCom's documented 20 characters.
      // Title, who asked and repository@ref, from the request's context.
      expect(made.summary).toEqual([
        'Deploy api from acm…',
        'octocat (GitHub)',
        'acme/api@main',
      ]);
      expect(
        made.approvers.map((a: { userId: string; apvRel: string }) => [
          a.userId,
          a.apvRel,
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
        'wecom',
      );
      const decided = (await waiting).body;
      expect(decided).toMatchObject({
        status: 'approved',
        decidedBy: 'Alice Chen',
        decidedById: 'alice',
        comment: 'ship it',
      });
      // WeCom's sptime is whole seconds; the decision still comes after the request.
      expect(Date.parse(decided.decidedAt!)).toBeGreaterThanOrEqual(
        Date.parse(decided.createdAt),
      );
      // The reconciler passes every 3 s and may read the decision first; either way it is recorded
      // once, and WeCom's callback of it is accepted.
      const approved = (await timelineOf(approval.id, token)).filter(
        event => event.type === 'approved',
      );
      expect(approved).toEqual([
        expect.objectContaining({
          source: expect.stringMatching(/^(callback|reconciler)$/),
          actor: 'Alice Chen',
        }),
      ]);
      const accepted = (all: ImDeliveryRecord[]) =>
        all.some(
          d =>
            d.eventStatus.startsWith('SpStatus 2') && d.outcome === 'delivered',
        );
      expect(
        accepted(
          await eventually(
            () => deliveries(WECOM_APP.agentId, approval.imInstanceId!),
            accepted,
          ),
        ),
      ).toBe(true);
    });

    it('returns a rejection with its speech', async () => {
      const { approval, token } = await open();
      const waiting = waitFor(backend(), approval.id, token);
      await decideInSandbox(
        stack,
        approval.imInstanceId!,
        'reject',
        { userId: 'bob', comment: 'not on a Friday' },
        'wecom',
      );
      expect((await waiting).body).toMatchObject({
        status: 'rejected',
        decidedBy: 'Bob Li',
        decidedById: 'bob',
        comment: 'not on a Friday',
      });
    });

    it('attributes a decision to whoever decided a task handed on in WeCom (转审), and the timeline says who handed it on', async () => {
      await sandboxControl(stack.sandbox, 'POST', '/wecom/users', {
        userId: 'carol',
        name: 'Carol Wu',
      });
      const { approval, token } = await open();
      await sandboxControl(
        stack.sandbox,
        'POST',
        `/wecom/instances/${encodeURIComponent(approval.imInstanceId!)}/transfer`,
        { fromUserId: 'bob', toUserId: 'carol', speech: 'on leave' },
      );
      const waiting = waitFor(backend(), approval.id, token);
      await decideInSandbox(
        stack,
        approval.imInstanceId!,
        'approve',
        { userId: 'carol', comment: 'covering for bob' },
        'wecom',
      );
      expect((await waiting).body).toMatchObject({
        status: 'approved',
        decidedBy: 'Carol Wu',
        decidedById: 'carol',
        comment: 'covering for bob',
      });
      // WeCom's detail says who handed the task on and why (sp_yj 4), not to whom.
      const approved = (await timelineOf(approval.id, token)).find(
        e => e.type === 'approved',
      );
      expect(approved).toMatchObject({
        actor: 'Carol Wu',
        message:
          'covering for bob; in wecom: "Bob Li" handed the task on ("on leave")',
      });
    });

    it('cancels the approval and records that WeCom cannot revoke the request; a later decision in WeCom changes nothing', async () => {
      const { approval, token } = await open();
      const canceled = await api(
        backend(),
        'POST',
        `/approvals/${approval.id}/cancel`,
        { token, body: { reason: 'job canceled' } },
      );
      expect(canceled.body.status).toBe('canceled');
      const timeline = await timelineOf(approval.id, token);
      expect(timeline.map(e => e.type)).toEqual([
        'created',
        'im_instance_created',
        'canceled',
        'im_revoke_failed',
      ]);
      expect(timeline.at(-1)!.message).toMatch(/no API to revoke/);
      // No revoke API exists, so the request is still waiting in WeCom.
      expect((await request(approval.imInstanceId!)).status).toBe('PENDING');

      await decideInSandbox(
        stack,
        approval.imInstanceId!,
        'approve',
        { userId: 'alice' },
        'wecom',
      );
      await eventually(
        () => deliveries(WECOM_APP.agentId, approval.imInstanceId!),
        all =>
          all.some(
            d =>
              d.eventStatus.startsWith('SpStatus 2') &&
              d.outcome === 'delivered',
          ),
      );
      const after = await getWithTimeline(backend(), approval.id, token);
      expect(after.body.status).toBe('canceled');
      expect(after.body.timeline).toHaveLength(4);
    });

    it('cancels the approval when the applicant withdraws the request in WeCom', async () => {
      const { approval, token } = await open();
      const waiting = waitFor(backend(), approval.id, token);
      await sandboxControl(
        stack.sandbox,
        'POST',
        `/wecom/instances/${approval.imInstanceId}/status`,
        { spStatus: 4 },
      );
      expect((await waiting).body).toMatchObject({ status: 'canceled' });
      expect((await timelineOf(approval.id, token)).at(-1)).toMatchObject({
        type: 'canceled',
        actor: null,
      });
    });

    it('applies an event delivered twice exactly once', async () => {
      const { approval, token } = await open();
      await decideInSandbox(
        stack,
        approval.imInstanceId!,
        'approve',
        { userId: 'bob', delivery: { duplicate: true } },
        'wecom',
      );
      const decided = await eventually(
        async () =>
          (await deliveries(WECOM_APP.agentId, approval.imInstanceId!)).filter(
            d =>
              d.eventStatus.startsWith('SpStatus 2') &&
              d.outcome === 'delivered',
          ),
        all => all.length === 2,
      );
      expect(decided).toHaveLength(2);
      expect(decided[0].eventId).toBe(decided[1].eventId);
      const { body } = await getWithTimeline(backend(), approval.id, token);
      expect(body).toMatchObject({
        status: 'approved',
        decidedBy: 'Bob Li',
        decidedById: 'bob',
      });
      expect(body.timeline.filter(e => e.type === 'approved')).toHaveLength(1);
    });

    it('finds a decision whose callback was lost, through the reconciler', async () => {
      await sandboxControl(
        stack.sandbox,
        'PATCH',
        `/wecom/apps/${WECOM_APP.agentId}`,
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
          'wecom',
        );
        expect((await waiting).body).toMatchObject({
          status: 'approved',
          decidedBy: 'Alice Chen',
          decidedById: 'alice',
          comment: 'lost',
        });
        expect((await timelineOf(approval.id, token)).at(-1)).toMatchObject({
          type: 'approved',
          source: 'reconciler',
        });
        expect(
          (await deliveries(WECOM_APP.agentId, approval.imInstanceId!)).map(
            d => d.outcome,
          ),
        ).toEqual(['skipped', 'skipped']);
      } finally {
        await sandboxControl(
          stack.sandbox,
          'PATCH',
          `/wecom/apps/${WECOM_APP.agentId}`,
          { callbacks: 'on' },
        );
      }
    });
  });

  it('rejects forged, tampered, stale and wrong-receiveId callbacks: only the reconciler learns of the decision', async () => {
    const { approval, token } = await open();
    // Once the submission's own event is in (it makes the backend read the request), decided in
    // WeCom with the decision's event lost: an accepted forgery would be applied as a callback.
    await eventually(
      () => deliveries(WECOM_APP.agentId, approval.imInstanceId!),
      all =>
        all.some(
          d =>
            d.eventStatus === 'SpStatus 1 StatuChangeEvent 1' &&
            d.outcome === 'delivered',
        ),
    );
    const waiting = waitFor(backend(), approval.id, token);
    await decideInSandbox(
      stack,
      approval.imInstanceId!,
      'approve',
      { userId: 'alice', delivery: { drop: true } },
      'wecom',
    );
    const event = eventXml({
      event: 'sys_approval_change',
      spNo: approval.imInstanceId!,
      spStatus: 2,
    });

    expect(
      (
        await postEvent(
          new WxBizMsgCrypt({ ...GENUINE, token: 'guessed' }),
          event,
        )
      ).status,
    ).toBe(401);
    expect(
      (
        await postEvent(new WxBizMsgCrypt(GENUINE), event, {
          tamper: e => `${e.slice(0, -8)}AAAAAAA=`,
        })
      ).status,
    ).toBe(401);
    expect(
      (
        await postEvent(new WxBizMsgCrypt(GENUINE), event, {
          timestamp: Math.floor(Date.now() / 1000) - 3600,
        })
      ).status,
    ).toBe(401);
    const otherCorp = await postEvent(
      new WxBizMsgCrypt({ ...GENUINE, receiveId: 'wwanothercorp' }),
      event,
    );
    expect(otherCorp.status).toBe(400);
    expect(await otherCorp.text()).toMatch(/receiveId/);
    const unsigned = await fetch(callbackUrl(), {
      method: 'POST',
      headers: { 'content-type': 'text/xml' },
      body: '<xml><Encrypt>x</Encrypt></xml>',
    });
    expect(unsigned.status).toBe(401);

    expect((await waiting).body).toMatchObject({
      status: 'approved',
      decidedBy: 'Alice Chen',
      decidedById: 'alice',
    });
    // Every forgery was refused above. The decision is read from WeCom once: by the reconciler, or
    // by the read the submission's own (genuine) event asks for, when a loaded backend applies that
    // event after the decision was made.
    const timeline = await timelineOf(approval.id, token);
    expect(timeline.map(e => e.type)).toEqual([
      'created',
      'im_instance_created',
      'approved',
    ]);
    expect(timeline.at(-1)!.source).toMatch(/^(reconciler|callback)$/);
  });

  it('answers unknown events and approval changes of unknown requests with an empty 200, as WeCom expects', async () => {
    const crypt = new WxBizMsgCrypt(GENUINE);
    for (const plaintext of [
      eventXml({ event: 'change_contact' }),
      eventXml({
        event: 'sys_approval_change',
        spNo: '202611210999',
        spStatus: 2,
      }),
      `<xml><ToUserName><![CDATA[${WECOM_CORP_ID}]]></ToUserName><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[hello]]></Content></xml>`,
    ]) {
      const answer = await postEvent(crypt, plaintext);
      expect([answer.status, await answer.text()]).toEqual([200, '']);
    }
  });

  describe('the URL check', () => {
    it('passes the check WeCom makes when the callback URL is saved', async () => {
      await expect(
        sandboxControl(
          stack.sandbox,
          'POST',
          `/wecom/apps/${WECOM_APP.agentId}/verify-url`,
        ),
      ).resolves.toEqual({ ok: true });
    });

    it('answers the bare plaintext even when the echostr arrives with its "+" unescaped', async () => {
      const crypt = new WxBizMsgCrypt(GENUINE);
      let echostr = '';
      let plaintext = '';
      // An echostr with a "+" in its base64, as WeCom's sometimes have.
      for (let n = 0; !echostr.includes('+'); n++) {
        plaintext = String(1616140317555161061n + BigInt(n));
        echostr = crypt.encrypt(plaintext);
      }
      const timestamp = String(Math.floor(Date.now() / 1000));
      const signature = crypt.signature(timestamp, '263014780', echostr);
      const answer = await fetch(
        `${callbackUrl()}?msg_signature=${signature}&timestamp=${timestamp}&nonce=263014780&echostr=${echostr}`,
      );
      expect([answer.status, await answer.text()]).toEqual([200, plaintext]);
    });

    it('refuses a check with a forged signature and reveals nothing', async () => {
      const crypt = new WxBizMsgCrypt(GENUINE);
      const echostr = crypt.encrypt('1616140317555161061');
      const timestamp = String(Math.floor(Date.now() / 1000));
      const query = new URLSearchParams({
        msg_signature: new WxBizMsgCrypt({
          ...GENUINE,
          token: 'guessed',
        }).signature(timestamp, '1', echostr),
        timestamp,
        nonce: '1',
        echostr,
      });
      const answer = await fetch(`${callbackUrl()}?${query}`);
      expect(answer.status).toBe(401);
      expect(await answer.text()).not.toContain('1616140317555161061');
    });
  });

  describe('in poll mode (no callback URL)', () => {
    it('learns of decisions from the reconciler alone, with the approver and speech', async () => {
      const approvedOne = await open(wecomPoll);
      const rejectedOne = await open(wecomPoll);
      expect(approvedOne.approval).toMatchObject({
        status: 'pending',
        integration: wecomPoll.integrationId,
      });
      expect((await request(approvedOne.approval.imInstanceId!)).agentId).toBe(
        WECOM_POLL_APP.agentId,
      );
      const waiting = [approvedOne, rejectedOne].map(({ approval, token }) =>
        waitFor(backend(), approval.id, token),
      );
      await decideInSandbox(
        stack,
        approvedOne.approval.imInstanceId!,
        'approve',
        { userId: 'alice', comment: 'fine by me' },
        'wecom',
      );
      await decideInSandbox(
        stack,
        rejectedOne.approval.imInstanceId!,
        'reject',
        { userId: 'bob', comment: 'wait for Monday' },
        'wecom',
      );
      const [approved, rejected] = await Promise.all(waiting);
      expect(approved.body).toMatchObject({
        status: 'approved',
        decidedBy: 'Alice Chen',
        decidedById: 'alice',
        comment: 'fine by me',
      });
      expect(rejected.body).toMatchObject({
        status: 'rejected',
        decidedBy: 'Bob Li',
        decidedById: 'bob',
        comment: 'wait for Monday',
      });
      for (const { approval, token } of [approvedOne, rejectedOne]) {
        expect((await timelineOf(approval.id, token)).at(-1)).toMatchObject({
          source: 'reconciler',
        });
        // The app has no callback URL: WeCom never called the backend.
        expect(
          await deliveries(WECOM_POLL_APP.agentId, approval.imInstanceId!),
        ).toEqual([]);
      }
    });

    it('takes no callbacks', async () => {
      const answer = await fetch(
        `${backend().api}/callbacks/wecom/${wecomPoll.integrationId}`,
        { method: 'POST', body: '<xml/>' },
      );
      expect(answer.status).toBe(400);
      expect(await answer.text()).toMatch(/connection mode poll/);
    });
  });
});
