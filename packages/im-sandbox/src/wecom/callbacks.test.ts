import type http from 'node:http';
import { text } from 'node:stream/consumers';
import * as wecomCrypto from '@wecom/crypto';
import { XMLParser } from 'fast-xml-parser';
import type { Sandbox } from '../server';
import { type Receiver, startReceiver } from '../testing/receiver';
import { control, sleep, startTestSandbox, waitFor } from '../testing/sandbox';
import { WECOM_APP, WECOM_CORP_ID, wecom } from '../testing/wecom';

// WeCom's callbacks, read by a receiver built only on WeCom's official @wecom/crypto: the URL
// check on save, and sys_approval_change events to the app that made the request.

const xml = new XMLParser({ parseTagValue: false });

interface Received {
  method: string;
  query: URLSearchParams;
  /** The parsed envelope (POST) */
  envelope?: Record<string, string>;
  /** The decrypted message (POST) or echostr plaintext (GET). */
  plaintext: string;
  message?: any;
}

type Answer = { status: number; body: string; afterMs?: number };

/** Checks the signature and the receiveId with @wecom/crypto, then answers as `reply` says. */
async function wecomReceiver(
  reply: (received: Received, index: number) => Answer,
) {
  const received: Received[] = [];
  const receiver = await startReceiver(
    async (req: http.IncomingMessage, res: http.ServerResponse) => {
      const query = new URL(req.url ?? '/', 'http://receiver').searchParams;
      const envelope =
        req.method === 'POST' ? xml.parse(await text(req)).xml : undefined;
      const encrypted = envelope
        ? envelope.Encrypt
        : (query.get('echostr') ?? '');
      const signature = wecomCrypto.getSignature(
        WECOM_APP.token,
        query.get('timestamp') ?? '',
        query.get('nonce') ?? '',
        encrypted,
      );
      if (signature !== query.get('msg_signature')) {
        res.statusCode = 401;
        res.end('bad signature');
        return;
      }
      const { message, id } = wecomCrypto.decrypt(
        WECOM_APP.encodingAesKey,
        encrypted,
      );
      expect(id).toBe(WECOM_CORP_ID);
      const entry: Received = {
        method: req.method ?? '',
        query,
        envelope,
        plaintext: message,
        message: envelope ? xml.parse(message).xml : undefined,
      };
      const answer = reply(entry, received.push(entry) - 1);
      if (answer.afterMs)
        await new Promise(resolve => setTimeout(resolve, answer.afterMs));
      res.statusCode = answer.status;
      res.end(answer.body);
    },
  );
  return { receiver, received };
}

/** The receiver a backend should be: the bare echostr plaintext for the URL check, an empty 200 for events. */
const faithful = (received: Received): Answer => ({
  status: 200,
  body: received.method === 'GET' ? received.plaintext : '',
});

describe('WeCom callbacks', () => {
  let sandbox: Sandbox;
  let receiver: Receiver | undefined;
  beforeEach(async () => {
    sandbox = await startTestSandbox();
  });
  afterEach(async () => {
    await sandbox.close();
    await receiver?.close();
    receiver = undefined;
  });

  const saveCallbackUrl = (url: string) =>
    control(sandbox).patch(`/wecom/apps/${WECOM_APP.agentId}`, {
      callbackUrl: url,
    });
  const deliveries = async () =>
    (await control(sandbox).get('/wecom/deliveries')).body as Array<
      Record<string, any>
    >;

  it('saves a callback URL only when the GET check gets the bare decrypted echostr back', async () => {
    const quoting = await wecomReceiver(received => ({
      status: 200,
      body: `"${received.plaintext}"\n`,
    }));
    receiver = quoting.receiver;
    const refused = await saveCallbackUrl(quoting.receiver.url);
    expect(refused.status).toBe(422);
    expect(refused.body.error).toMatch(
      /URL check of .* failed: the answer is not the bare decrypted echostr/,
    );
    expect(
      (await control(sandbox).get('/wecom/apps')).body[0].callbackUrl,
    ).toBeNull();
    const [check] = quoting.received;
    expect(check.method).toBe('GET');
    expect(check.plaintext).toMatch(/^\d+$/);
    expect(
      Math.abs(Number(check.query.get('timestamp')) - Date.now() / 1000),
    ).toBeLessThan(5);
    await quoting.receiver.close();

    const good = await wecomReceiver(faithful);
    receiver = good.receiver;
    expect((await saveCallbackUrl(good.receiver.url)).body).toEqual({
      agentId: WECOM_APP.agentId,
      callbackUrl: good.receiver.url,
      callbacks: 'on',
      approvalApi: true,
    });
    expect(
      (
        await control(sandbox).post(
          `/wecom/apps/${WECOM_APP.agentId}/verify-url`,
        )
      ).body,
    ).toEqual({ ok: true });
    await good.receiver.close();
    expect(
      (
        await control(sandbox).post(
          `/wecom/apps/${WECOM_APP.agentId}/verify-url`,
        )
      ).status,
    ).toBe(502);
  });

  it('posts encrypted sys_approval_change events to the app that made the request, with the new SpStatus and the speech', async () => {
    const { receiver: started, received } = await wecomReceiver(faithful);
    receiver = started;
    await saveCallbackUrl(receiver.url);
    // Another app of the corp, with its own callback URL: it must hear nothing of this request.
    const other = await wecomReceiver(faithful);
    await control(sandbox).post('/wecom/apps', {
      ...WECOM_APP,
      agentId: 1000003,
      secret: 'other',
      callbackUrl: other.receiver.url,
    });
    try {
      const api = await wecom(sandbox);
      const spNo = await api.apply();
      await control(sandbox).post(`/wecom/instances/${spNo}/approve`, {
        userId: 'bob',
        comment: 'ship <it> ]]> now',
      });

      await waitFor(
        'two events',
        () => received.filter(entry => entry.method === 'POST').length === 2,
      );
      const events = received.filter(entry => entry.method === 'POST');
      for (const { envelope, query } of events) {
        expect(envelope).toEqual({
          ToUserName: WECOM_CORP_ID,
          Encrypt: expect.any(String),
          AgentID: String(WECOM_APP.agentId),
        });
        expect(query.get('timestamp')).toMatch(/^\d{10}$/);
        expect(query.get('nonce')).toMatch(/^\d+$/);
      }
      const [submitted, approved] = events.map(entry => entry.message);
      expect(submitted).toMatchObject({
        ToUserName: WECOM_CORP_ID,
        FromUserName: 'sys',
        MsgType: 'event',
        Event: 'sys_approval_change',
        AgentID: String(WECOM_APP.agentId),
      });
      expect(submitted.ApprovalInfo).toMatchObject({
        SpNo: spNo,
        SpStatus: '1',
        StatuChangeEvent: '1',
        TemplateId: expect.any(String),
        Applyer: { UserId: 'bot' },
      });
      expect(approved.ApprovalInfo).toMatchObject({
        SpNo: spNo,
        SpName: 'Production deployment',
        SpStatus: '2',
        StatuChangeEvent: '2',
        SpRecord: {
          SpStatus: '2',
          ApproverAttr: '1',
          Details: [
            expect.objectContaining({
              Approver: { UserId: 'alice' },
              SpStatus: '1',
              SpTime: '0',
            }),
            expect.anything(),
          ],
        },
      });
      expect(approved.ApprovalInfo.SpRecord.Details[1]).toMatchObject({
        Approver: { UserId: 'bob' },
        Speech: 'ship <it> ]]> now',
        SpStatus: '2',
      });
      expect(Number(approved.CreateTime)).toBeGreaterThan(
        Date.now() / 1000 - 5,
      );

      await waitFor(
        'both recorded',
        async () => (await deliveries()).length === 3,
      );
      expect(
        (await deliveries()).map(record => [
          record.eventType,
          record.eventStatus,
          record.outcome,
        ]),
      ).toEqual([
        ['url_verification', '', 'delivered'],
        ['sys_approval_change', 'SpStatus 1 StatuChangeEvent 1', 'delivered'],
        ['sys_approval_change', 'SpStatus 2 StatuChangeEvent 2', 'delivered'],
      ]);
      expect(other.received).toEqual([]);
    } finally {
      await other.receiver.close();
    }
  });

  it('redelivers the same ciphertext, freshly signed, until the answer is HTTP 200 with an empty body or "success"', async () => {
    const { receiver: started, received } = await wecomReceiver(
      (entry, index) => {
        if (entry.method === 'GET') return faithful(entry);
        return [
          { status: 500, body: '' },
          { status: 200, body: 'fail' },
          { status: 200, body: 'success' },
        ][Math.min(index - 1, 2)];
      },
    );
    receiver = started;
    await saveCallbackUrl(receiver.url);
    const api = await wecom(sandbox);
    await api.apply();

    await waitFor('the third attempt recorded', async () =>
      (await deliveries()).some(record => record.attempt === 3),
    );
    const attempts = (await deliveries()).filter(
      record => record.eventType === 'sys_approval_change',
    );
    expect(
      attempts.map(record => [
        record.attempt,
        record.outcome,
        record.willRetry,
      ]),
    ).toEqual([
      [1, 'failed', true],
      [2, 'failed', true],
      [3, 'delivered', false],
    ]);
    expect(attempts[1].error).toMatch(/not empty or "success"/);
    const posts = received.filter(entry => entry.method === 'POST');
    expect(new Set(posts.map(entry => entry.envelope?.Encrypt)).size).toBe(1);
    expect(
      new Set(posts.map(entry => entry.query.get('msg_signature'))).size,
    ).toBe(3);
  });

  it('waits 5 s for an answer, and tries a refused push three more times at most', async () => {
    // Retries offered for five; WeCom makes three.
    await sandbox.close();
    sandbox = await startTestSandbox({
      callbackRetryDelaysMs: [50, 50, 50, 50, 50],
    });
    const { receiver: started } = await wecomReceiver((entry, index) => {
      if (entry.method === 'GET') return faithful(entry);
      // The first request: answered right, in 3.5 s (past the other IMs' deadlines, within WeCom's).
      return index === 1
        ? { ...faithful(entry), afterMs: 3500 }
        : { status: 500, body: '' };
    });
    receiver = started;
    await saveCallbackUrl(receiver.url);
    const api = await wecom(sandbox);
    await api.apply();
    await waitFor(
      'the slow answer recorded',
      async () =>
        (await deliveries()).some(
          record => record.eventType === 'sys_approval_change',
        ),
      8000,
    );
    expect(
      (await deliveries())
        .filter(record => record.eventType === 'sys_approval_change')
        .map(record => record.outcome),
    ).toEqual(['delivered']);

    await api.apply();
    await waitFor(
      'the retries used up',
      async () =>
        (await deliveries()).some(
          record => record.outcome === 'failed' && !record.willRetry,
        ),
      10_000,
    );
    const refused = (await deliveries()).filter(
      record => record.outcome === 'failed',
    );
    const attemptsOfOne = refused.filter(
      record => record.eventId === refused[0].eventId,
    );
    expect(
      attemptsOfOne.map(record => [record.attempt, record.willRetry]),
    ).toEqual([
      [1, true],
      [2, true],
      [3, true],
      [4, false],
    ]);
  }, 20_000);

  it('duplicates, delays, drops or skips events when told, as the other IMs do', async () => {
    const { receiver: started, received } = await wecomReceiver(faithful);
    receiver = started;
    await saveCallbackUrl(receiver.url);
    const api = await wecom(sandbox);
    const posts = () => received.filter(entry => entry.method === 'POST');

    const twice = await api.apply();
    await waitFor('the submit event', () => posts().length === 1);
    await control(sandbox).post(`/wecom/instances/${twice}/approve`, {
      delivery: { duplicate: true },
    });
    await waitFor('the duplicated approval', () => posts().length === 3);
    const [first, second] = posts().slice(1);
    expect(second.envelope?.Encrypt).toBe(first.envelope?.Encrypt);
    expect(second.message.ApprovalInfo).toEqual(first.message.ApprovalInfo);

    const later = await api.apply();
    await waitFor('the second submit event', () => posts().length === 4);
    const decidedAt = Date.now();
    await control(sandbox).post(`/wecom/instances/${later}/reject`, {
      delivery: { delayMs: 300 },
    });
    await waitFor('the delayed rejection', () => posts().length === 5);
    expect(Date.now() - decidedAt).toBeGreaterThanOrEqual(290);

    const lost = await api.apply();
    await waitFor('the third submit event', () => posts().length === 6);
    await control(sandbox).post(`/wecom/instances/${lost}/status`, {
      spStatus: 4,
      delivery: { drop: true },
    });
    await control(sandbox).patch(`/wecom/apps/${WECOM_APP.agentId}`, {
      callbacks: 'off',
    });
    await control(sandbox).post(`/wecom/instances/${twice}/comments`, {
      userId: 'alice',
      content: 'noted',
    });
    await sleep(150);
    expect(posts()).toHaveLength(6);
    const log = await deliveries();
    expect(
      log
        .filter(record => record.instanceId === lost)
        .map(record => record.outcome),
    ).toEqual(['delivered', 'dropped']);
    expect(log.at(-1)).toMatchObject({
      instanceId: twice,
      outcome: 'skipped',
      eventStatus: 'SpStatus 2 StatuChangeEvent 10',
    });
  });
});
