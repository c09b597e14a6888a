import type http from 'node:http';
import { json } from 'node:stream/consumers';
import { WxBizMsgCrypt } from '@im-approval/plugin-im-approval-node';
import type { Sandbox } from '../server';
import { DINGTALK_APP, dingtalk } from '../testing/dingtalk';
import { type Receiver, startReceiver } from '../testing/receiver';
import { control, startTestSandbox, waitFor } from '../testing/sandbox';

// DingTalk's HTTP push: encrypted and signed for receiveId = AppKey, delivered only once the
// receiver answers with this app's encrypted "success".

const crypt = new WxBizMsgCrypt({
  token: DINGTALK_APP.token,
  encodingAesKey: DINGTALK_APP.aesKey,
  receiveId: DINGTALK_APP.appKey,
});

interface Received {
  query: URLSearchParams;
  event: Record<string, unknown>;
}

/** A receiver that checks and decrypts every push, then answers as `reply` says. */
async function dingtalkReceiver(
  reply: (
    event: Record<string, unknown>,
    index: number,
  ) => 'success' | 'late' | 'plain' | 'seconds' | 500,
) {
  const received: Received[] = [];
  const receiver = await startReceiver(
    async (req: http.IncomingMessage, res: http.ServerResponse) => {
      const query = new URL(req.url ?? '/', 'http://receiver').searchParams;
      const { encrypt } = (await json(req)) as { encrypt: string };
      const event = JSON.parse(
        crypt.open({
          signature: query.get('msg_signature') ?? '',
          timestamp: query.get('timestamp') ?? '',
          nonce: query.get('nonce') ?? '',
          encrypt,
        }),
      );
      const index = received.push({ query, event }) - 1;
      const answer = reply(event, index);
      // The right answer, after DingTalk's 1.5 s.
      if (answer === 'late')
        await new Promise(resolve => setTimeout(resolve, 1700));
      if (answer === 500) {
        res.statusCode = 500;
        res.end();
        return;
      }
      const now =
        answer === 'seconds'
          ? String(Math.floor(Date.now() / 1000))
          : String(Date.now());
      const sealed = crypt.seal('success', now, 'n0nce');
      res.setHeader('content-type', 'application/json');
      res.end(
        answer === 'plain'
          ? 'success'
          : JSON.stringify({
              msg_signature: sealed.signature,
              timeStamp: sealed.timestamp,
              nonce: sealed.nonce,
              encrypt: sealed.encrypt,
            }),
      );
    },
  );
  return { receiver, received };
}

describe('DingTalk HTTP callbacks', () => {
  let sandbox: Sandbox;
  let receiver: Receiver;
  /** A one-field form PROC-ONE, and the app's events pushed to `to`: the app's API client. */
  const oneFieldFormPushedTo = async (to: Receiver) => {
    await control(sandbox).post('/dingtalk/forms', {
      processCode: 'PROC-ONE',
      name: 'One field',
      components: [
        {
          componentType: 'TextField',
          id: 'TextField_service',
          label: 'Service',
        },
      ],
    });
    await control(sandbox).patch(`/dingtalk/apps/${DINGTALK_APP.appKey}`, {
      callbackUrl: to.url,
    });
    return dingtalk(sandbox);
  };
  beforeEach(async () => {
    sandbox = await startTestSandbox();
  });
  afterEach(async () => {
    await sandbox.close();
    await receiver.close();
  });

  it('saves a callback URL only when check_url gets the encrypted success back', async () => {
    const bad = await dingtalkReceiver(() => 'plain');
    receiver = bad.receiver;
    const refused = await control(sandbox).patch(
      `/dingtalk/apps/${DINGTALK_APP.appKey}`,
      { callbackUrl: bad.receiver.url },
    );
    expect(refused.status).toBe(422);
    expect(refused.body.error).toMatch(
      /check_url .* failed: the reply is not JSON/,
    );
    expect(bad.received[0].event).toEqual({ EventType: 'check_url' });
    expect(
      (await control(sandbox).get('/dingtalk/apps')).body[0].callbackUrl,
    ).toBeNull();
    await bad.receiver.close();

    const good = await dingtalkReceiver(() => 'success');
    receiver = good.receiver;
    const saved = await control(sandbox).patch(
      `/dingtalk/apps/${DINGTALK_APP.appKey}`,
      { callbackUrl: good.receiver.url },
    );
    expect(saved.body).toMatchObject({
      callbackUrl: good.receiver.url,
      mode: 'callback',
    });
    expect(
      (
        await control(sandbox).post(
          `/dingtalk/apps/${DINGTALK_APP.appKey}/check-url`,
        )
      ).body,
    ).toEqual({ ok: true });
  });

  it('pushes bpms_instance_change and bpms_task_change events, signed with a millisecond timestamp', async () => {
    const { receiver: started, received } = await dingtalkReceiver(
      () => 'success',
    );
    receiver = started;
    await control(sandbox).patch(`/dingtalk/apps/${DINGTALK_APP.appKey}`, {
      callbackUrl: receiver.url,
    });
    const api = await dingtalk(sandbox);
    const id = await api.createInstance();
    await control(sandbox).post(`/dingtalk/instances/${id}/approve`, {
      userId: 'bob',
      comment: 'ship it',
    });

    await waitFor('seven pushes', () => received.length === 7);
    const events = received.slice(1).map(entry => entry.event);
    const summary = events.map(event =>
      [
        event.EventType,
        event.type,
        event.staffId,
        event.result ?? '',
        event.remark ?? '',
      ]
        .join(' ')
        .trim(),
    );
    expect(summary.sort()).toEqual(
      [
        'bpms_instance_change start bot',
        'bpms_task_change start alice',
        'bpms_task_change start bob',
        'bpms_task_change finish bob agree ship it',
        'bpms_task_change cancel alice',
        'bpms_instance_change finish bot agree',
      ].sort(),
    );
    expect(
      events.every(
        event =>
          event.processInstanceId === id && event.processCode === 'PROC-DEPLOY',
      ),
    ).toBe(true);
    expect(new Set(events.map(event => event.eventId)).size).toBe(6);
    for (const { query } of received) {
      expect(
        Math.abs(Number(query.get('timestamp')) - Date.now()),
      ).toBeLessThan(5000);
      expect(query.get('signature')).toBe(query.get('msg_signature'));
    }
    await waitFor(
      'every delivery recorded',
      async () =>
        (await control(sandbox).get('/dingtalk/deliveries')).body.length === 7,
    );
    const log = (await control(sandbox).get('/dingtalk/deliveries')).body;
    expect(
      log.every(
        (record: { outcome: string }) => record.outcome === 'delivered',
      ),
    ).toBe(true);
  });

  it('announces each task of each approver step as the step is reached, in order, for a form made by API', async () => {
    const { receiver: started, received } = await dingtalkReceiver(
      () => 'success',
    );
    receiver = started;
    await control(sandbox).patch(`/dingtalk/apps/${DINGTALK_APP.appKey}`, {
      callbackUrl: receiver.url,
    });
    const api = await dingtalk(sandbox);
    const processCode = (
      await api.post('/v1.0/workflow/forms', {
        name: 'Two steps',
        formComponents: [
          { componentType: 'TextareaField', props: { label: 'Service' } },
        ],
      })
    ).body.result.processCode;
    const id = await api.createInstance({
      processCode,
      formComponentValues: [{ name: 'Service', value: 'payments' }],
      approvers: [
        { actionType: 'NONE', userIds: ['alice'] },
        { actionType: 'AND', userIds: ['bob', 'carol'] },
      ],
    });
    await waitFor('the first step announced', () => received.length === 3);
    await control(sandbox).post(`/dingtalk/instances/${id}/approve`, {
      userId: 'alice',
    });
    await waitFor('the second step announced', () => received.length === 6);
    await control(sandbox).post(`/dingtalk/instances/${id}/reject`, {
      userId: 'carol',
      comment: 'not yet',
    });
    await waitFor('the end announced', () => received.length === 9);
    const summary = (from: number, to: number) =>
      received
        .slice(from, to)
        .map(({ event }) =>
          [event.EventType, event.type, event.staffId, event.result ?? '']
            .join(' ')
            .trim(),
        )
        .sort();
    // check_url, then each change's events (pushed in parallel within one change).
    expect(summary(1, 3)).toEqual([
      'bpms_instance_change start bot',
      'bpms_task_change start alice',
    ]);
    expect(summary(3, 6)).toEqual([
      'bpms_task_change finish alice agree',
      'bpms_task_change start bob',
      'bpms_task_change start carol',
    ]);
    expect(summary(6, 9)).toEqual([
      'bpms_instance_change finish bot refuse',
      'bpms_task_change cancel bob',
      'bpms_task_change finish carol refuse',
    ]);
    expect(
      received.slice(1).every(({ event }) => event.processCode === processCode),
    ).toBe(true);
  });

  it('redelivers the same event until the reply is the encrypted success with a real timestamp', async () => {
    const attempts = new Map<unknown, number>();
    const { receiver: started, received } = await dingtalkReceiver(event => {
      if (event.EventType === 'check_url') return 'success';
      const attempt = attempts.get(event.eventId) ?? 0;
      attempts.set(event.eventId, attempt + 1);
      return (['plain', 'seconds', 'success'] as const)[Math.min(attempt, 2)];
    });
    receiver = started;
    const api = await oneFieldFormPushedTo(receiver);
    await control(sandbox).patch(`/dingtalk/apps/${DINGTALK_APP.appKey}`, {
      callbacks: 'off',
    });
    const id = await api.createInstance({
      processCode: 'PROC-ONE',
      formComponentValues: [{ name: 'Service', value: 'x' }],
    });
    await control(sandbox).patch(`/dingtalk/apps/${DINGTALK_APP.appKey}`, {
      callbacks: 'on',
    });
    await control(sandbox).post(`/dingtalk/instances/${id}/approve`, {
      userId: 'alice',
      delivery: { drop: false },
    });

    // Three events (task finish, task cancel, instance finish); the first one meets the failing replies.
    const finished = await waitFor(
      'the instance finish delivered',
      async () => {
        const all = (await control(sandbox).get('/dingtalk/deliveries'))
          .body as Array<Record<string, unknown>>;
        const finish = all.filter(
          record =>
            record.eventType === 'bpms_instance_change' &&
            record.eventStatus === 'finish agree',
        );
        return finish.some(record => record.outcome === 'delivered')
          ? finish
          : undefined;
      },
      8000,
    );
    const log = finished.filter(record => record.outcome !== 'skipped');
    expect(log.map(record => [record.attempt, record.outcome])).toEqual([
      [1, 'failed'],
      [2, 'failed'],
      [3, 'delivered'],
    ]);
    expect(log[0].error).toMatch(/not JSON/);
    expect(log[1].error).toMatch(/not the current time in milliseconds/);
    const pushes = received.filter(
      entry => entry.event.EventType === 'bpms_instance_change',
    );
    expect(pushes).toHaveLength(3);
    expect(new Set(pushes.map(entry => entry.event.eventId)).size).toBe(1);
    expect(
      new Set(pushes.map(entry => entry.query.get('timestamp'))).size,
    ).toBe(3);
  }, 15_000);

  it('counts an answer after 1.5 s as none, and redelivers the event', async () => {
    const late = new Set<unknown>();
    const { receiver: started } = await dingtalkReceiver(event => {
      if (event.EventType !== 'bpms_instance_change' || late.has(event.eventId))
        return 'success';
      late.add(event.eventId);
      return 'late';
    });
    receiver = started;
    const api = await oneFieldFormPushedTo(receiver);
    await api.createInstance({
      processCode: 'PROC-ONE',
      formComponentValues: [{ name: 'Service', value: 'x' }],
    });

    const starts = await waitFor(
      'the instance start delivered on the second attempt',
      async () => {
        const all = (await control(sandbox).get('/dingtalk/deliveries'))
          .body as Array<Record<string, unknown>>;
        const start = all.filter(
          record => record.eventType === 'bpms_instance_change',
        );
        return start.some(record => record.outcome === 'delivered')
          ? start
          : undefined;
      },
      8000,
    );
    expect(starts.map(record => [record.attempt, record.outcome])).toEqual([
      [1, 'failed'],
      [2, 'delivered'],
    ]);
    expect(starts[0].error).toBe('no answer within 1500 ms');
  }, 15_000);

  it('delivers twice with the same eventId, or not at all, when told', async () => {
    const { receiver: started, received } = await dingtalkReceiver(
      () => 'success',
    );
    receiver = started;
    await control(sandbox).patch(`/dingtalk/apps/${DINGTALK_APP.appKey}`, {
      callbackUrl: receiver.url,
    });
    const api = await dingtalk(sandbox);
    const twice = await api.createInstance({
      approvers: [{ actionType: 'NONE', userIds: ['alice'] }],
    });
    await waitFor('the start events', () => received.length === 3);
    await control(sandbox).post(`/dingtalk/instances/${twice}/approve`, {
      delivery: { duplicate: true },
    });
    await waitFor('the duplicated finish events', () => received.length === 7);
    const finishes = received.slice(3).map(entry => entry.event);
    expect(
      finishes.filter(event => event.EventType === 'bpms_instance_change'),
    ).toHaveLength(2);
    expect(new Set(finishes.map(event => event.eventId)).size).toBe(2);

    const dropped = await api.createInstance({
      approvers: [{ actionType: 'NONE', userIds: ['alice'] }],
    });
    await waitFor('the second start events', () => received.length === 9);
    await control(sandbox).post(`/dingtalk/instances/${dropped}/reject`, {
      delivery: { drop: true },
    });
    const log = await control(sandbox).get('/dingtalk/deliveries');
    expect(
      log.body.filter(
        (record: { instanceId: string; outcome: string }) =>
          record.instanceId === dropped && record.outcome === 'dropped',
      ),
    ).toHaveLength(2);
  });
});
