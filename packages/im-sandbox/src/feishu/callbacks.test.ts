import {
  feishuDecrypt,
  feishuSignature,
} from '@im-approval/plugin-im-approval-node';
import * as lark from '@larksuiteoapi/node-sdk';
import type { Sandbox, SandboxOptions } from '../server';
import { quietLogger } from '../testing/lark';
import {
  type ReceivedRequest,
  type Receiver,
  startReceiver,
} from '../testing/receiver';
import {
  APP,
  control,
  feishu,
  sleep,
  startTestSandbox,
  waitFor,
} from '../testing/sandbox';
import { FEISHU_RETRY_DELAYS_MS, feishuRetryDelaysMs } from './events';

const PLAIN_APP = {
  appId: 'cli_plain_app',
  appSecret: 'plain-secret',
  verificationToken: 'plain-token',
};

interface V1Event {
  uuid: string;
  token: string;
  ts: string;
  type: string;
  event: Record<string, string>;
}

const decrypt = (request: ReceivedRequest): V1Event =>
  JSON.parse(
    feishuDecrypt(
      APP.encryptKey,
      JSON.parse(request.rawBody.toString('utf8')).encrypt,
    ),
  );

const summary = (event: V1Event) =>
  `${event.event.type} ${event.event.open_id ?? ''} ${event.event.status}`.replace(
    '  ',
    ' ',
  );

describe('callback delivery', () => {
  let sandbox: Sandbox;
  let receiver: Receiver;

  /** A sandbox whose test app sends its events to `receiver`, subscribed to DEPLOY unless told otherwise. */
  async function setup(
    options: SandboxOptions & {
      subscribe?: boolean;
      handler?: Parameters<typeof startReceiver>[0];
    } = {},
  ) {
    receiver = await startReceiver(options.handler);
    sandbox = await startTestSandbox(options);
    await control(sandbox).patch(`/feishu/apps/${APP.appId}`, {
      callbackUrl: receiver.url,
    });
    const api = await feishu(sandbox);
    if (options.subscribe !== false)
      await api.post('/approval/v4/approvals/DEPLOY/subscribe');
    return api;
  }

  afterEach(async () => {
    await sandbox.close();
    await receiver.close();
  });

  describe('as the official SDK receives it', () => {
    it('decrypts and verifies both v1 events with the encrypt key', async () => {
      const instances: Array<Record<string, unknown>> = [];
      const tasks: Array<Record<string, unknown>> = [];
      const dispatcher = new lark.EventDispatcher({
        encryptKey: APP.encryptKey,
        verificationToken: APP.verificationToken,
        logger: quietLogger,
      }).register({
        approval_instance: async (data: Record<string, unknown>) =>
          void instances.push(data),
        approval_task: async (data: Record<string, unknown>) =>
          void tasks.push(data),
      });
      const api = await setup({
        handler: lark.adaptDefault('/callbacks', dispatcher),
      });
      const code = await api.createInstance();

      await control(sandbox).post(`/feishu/instances/${code}/approve`, {
        openId: 'ou_bob',
        comment: 'ship it',
      });

      // The SDK only hands over events whose X-Lark-Signature checks out.
      await waitFor('the APPROVED instance event', () =>
        instances.find(event => event.status === 'APPROVED'),
      );
      expect(instances).toEqual([
        expect.objectContaining({
          instance_code: code,
          status: 'PENDING',
          approval_code: 'DEPLOY',
          app_id: APP.appId,
        }),
        expect.objectContaining({
          instance_code: code,
          status: 'APPROVED',
          approval_code: 'DEPLOY',
          app_id: APP.appId,
        }),
      ]);
      await waitFor('the task events', () => tasks.length === 4);
      expect(tasks).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            instance_code: code,
            open_id: 'ou_bob',
            user_id: 'u_bob',
            status: 'APPROVED',
            custom_key: 'approvers',
            def_key: 'node_approvers',
          }),
          expect.objectContaining({
            instance_code: code,
            open_id: 'ou_alice',
            status: 'DONE',
          }),
        ]),
      );
    });

    it('delivers plain JSON carrying the verification token to an app without an encrypt key', async () => {
      const instances: Array<Record<string, unknown>> = [];
      const dispatcher = new lark.EventDispatcher({
        verificationToken: PLAIN_APP.verificationToken,
        logger: quietLogger,
      }).register({
        approval_instance: async (data: Record<string, unknown>) =>
          void instances.push(data),
        approval_task: async () => undefined,
      });
      receiver = await startReceiver(
        lark.adaptDefault('/callbacks', dispatcher),
      );
      sandbox = await startTestSandbox();
      await control(sandbox).post('/feishu/apps', {
        ...PLAIN_APP,
        callbackUrl: receiver.url,
      });
      const api = await feishu(sandbox, PLAIN_APP);
      await api.post('/approval/v4/approvals/DEPLOY/subscribe');
      const code = await api.createInstance();

      await control(sandbox).post(`/feishu/instances/${code}/reject`, {
        comment: 'not now',
      });

      const rejected = await waitFor('the REJECTED event', () =>
        instances.find(event => event.status === 'REJECTED'),
      );
      expect(rejected).toMatchObject({
        instance_code: code,
        token: PLAIN_APP.verificationToken,
        app_id: PLAIN_APP.appId,
      });
    });
  });

  describe('on the wire', () => {
    it('sends Feishu v1 envelopes, signed over the exact raw body', async () => {
      const api = await setup();
      const code = await api.createInstance({ uuid: 'run-7' });
      await control(sandbox).post(`/feishu/instances/${code}/approve`, {
        openId: 'ou_alice',
      });

      await waitFor('six pushes', () => receiver.requests.length === 6);
      for (const request of receiver.requests) {
        expect(request.headers['content-type']).toBe('application/json');
        const timestamp = String(request.headers['x-lark-request-timestamp']);
        const nonce = String(request.headers['x-lark-request-nonce']);
        expect(Math.abs(Number(timestamp) - Date.now() / 1000)).toBeLessThan(5);
        expect(request.headers['x-lark-signature']).toBe(
          feishuSignature(timestamp, nonce, APP.encryptKey, request.rawBody),
        );
      }
      const events = receiver.requests.map(decrypt);
      expect(events.map(summary).sort()).toEqual(
        [
          'approval_instance PENDING',
          'approval_task ou_alice PENDING',
          'approval_task ou_bob PENDING',
          'approval_task ou_alice APPROVED',
          'approval_task ou_bob DONE',
          'approval_instance APPROVED',
        ].sort(),
      );
      expect(new Set(events.map(event => event.uuid)).size).toBe(6);
      const approved = events.find(
        event =>
          event.event.type === 'approval_instance' &&
          event.event.status === 'APPROVED',
      );
      expect(approved).toEqual({
        uuid: expect.stringMatching(/^[0-9a-f]{32}$/),
        token: APP.verificationToken,
        ts: expect.stringMatching(/^\d{10}\.\d+$/),
        type: 'event_callback',
        event: {
          app_id: APP.appId,
          tenant_key: expect.any(String),
          type: 'approval_instance',
          approval_code: 'DEPLOY',
          instance_code: code,
          status: 'APPROVED',
          operate_time: expect.stringMatching(/^\d{13}$/),
          instance_operate_time: expect.stringMatching(/^\d{13}$/),
          uuid: 'run-7',
        },
      });
    });

    it('sends nothing to an app that did not subscribe to the approval', async () => {
      const api = await setup({ subscribe: false });
      const code = await api.createInstance();
      await control(sandbox).post(`/feishu/instances/${code}/approve`, {});

      await sleep(200);
      expect(receiver.requests).toHaveLength(0);
    });

    it('sends nothing while the app has callbacks off, and logs the skip', async () => {
      const api = await setup();
      await control(sandbox).patch(`/feishu/apps/${APP.appId}`, {
        callbacks: 'off',
      });
      const code = await api.createInstance();
      await control(sandbox).post(`/feishu/instances/${code}/approve`, {});

      await sleep(200);
      expect(receiver.requests).toHaveLength(0);
      const log = await control(sandbox).get('/feishu/deliveries');
      expect(log.body).toHaveLength(6);
      expect(
        log.body.every(
          (record: { outcome: string }) => record.outcome === 'skipped',
        ),
      ).toBe(true);
    });
  });

  describe('delivery controls', () => {
    /** An instance created before subscribing, so only the decision's events reach the receiver. */
    async function quietInstance() {
      const api = await setup({ subscribe: false });
      const code = await api.createInstance();
      await api.post('/approval/v4/approvals/DEPLOY/subscribe');
      return code;
    }

    it('duplicate: delivers every event twice with the same uuid', async () => {
      const code = await quietInstance();
      await control(sandbox).post(`/feishu/instances/${code}/approve`, {
        openId: 'ou_alice',
        delivery: { duplicate: true },
      });

      await waitFor('six pushes', () => receiver.requests.length === 6);
      const uuids = receiver.requests.map(request => decrypt(request).uuid);
      expect(new Set(uuids).size).toBe(3);
      for (const uuid of uuids)
        expect(uuids.filter(candidate => candidate === uuid)).toHaveLength(2);
    });

    it('drop: delivers nothing and logs the drops', async () => {
      const code = await quietInstance();
      await control(sandbox).post(`/feishu/instances/${code}/approve`, {
        delivery: { drop: true },
      });

      await sleep(200);
      expect(receiver.requests).toHaveLength(0);
      const log = await control(sandbox).get('/feishu/deliveries');
      expect(
        log.body.map((record: { outcome: string; attempt: number }) => [
          record.outcome,
          record.attempt,
        ]),
      ).toEqual([
        ['dropped', 0],
        ['dropped', 0],
        ['dropped', 0],
      ]);
    });

    it('delayMs: delivers only after the delay', async () => {
      const code = await quietInstance();
      const decidedAt = Date.now();
      await control(sandbox).post(`/feishu/instances/${code}/approve`, {
        delivery: { delayMs: 400 },
      });

      await sleep(200);
      expect(receiver.requests).toHaveLength(0);
      await waitFor('the late pushes', () => receiver.requests.length === 3);
      for (const request of receiver.requests)
        expect(request.at - decidedAt).toBeGreaterThanOrEqual(400);
    });

    it('retries a push that does not get HTTP 200, with the same event, holding the later events of the instance until then', async () => {
      const code = await quietInstance();
      receiver.answer = index => (index < 1 ? 500 : 200);
      await control(sandbox).post(`/feishu/instances/${code}/reject`, {});

      await waitFor(
        'the redelivery and the held events',
        () => receiver.requests.length === 4,
      );
      const uuids = receiver.requests.map(request => decrypt(request).uuid);
      // In order: the first event twice (refused, then acknowledged), only then the other two.
      expect(uuids[1]).toBe(uuids[0]);
      expect(new Set(uuids).size).toBe(3);
      const log = await waitFor('the log of four attempts', async () => {
        const answer = await control(sandbox).get('/feishu/deliveries');
        return answer.body.length === 4 ? answer.body : undefined;
      });
      expect(
        log.filter(
          (record: { eventUuid: string }) => record.eventUuid === uuids[0],
        ),
      ).toEqual([
        expect.objectContaining({
          attempt: 1,
          outcome: 'failed',
          httpStatus: 500,
          willRetry: true,
          instanceCode: code,
        }),
        expect.objectContaining({
          attempt: 2,
          outcome: 'delivered',
          httpStatus: 200,
          willRetry: false,
          instanceCode: code,
        }),
      ]);
      for (const uuid of uuids.slice(2)) {
        expect(
          log.filter(
            (record: { eventUuid: string }) => record.eventUuid === uuid,
          ),
        ).toEqual([
          expect.objectContaining({
            attempt: 1,
            outcome: 'delivered',
            instanceCode: code,
          }),
        ]);
      }
    });

    it('ordered per instance: an unanswered event holds back the later ones of its instance only', async () => {
      const api = await setup();
      const held = await api.createInstance();
      const heldEvents = () =>
        receiver.requests.filter(
          request => decrypt(request).event.instance_code === held,
        );
      // Every push about the first instance is refused; the other instance's events still flow.
      receiver.answer = index =>
        decrypt(receiver.requests[index]).event.instance_code === held
          ? 500
          : 200;
      await control(sandbox).post(`/feishu/instances/${held}/approve`, {
        openId: 'ou_alice',
      });
      const other = await api.createInstance();
      await control(sandbox).post(`/feishu/instances/${other}/approve`, {
        openId: 'ou_bob',
      });

      await waitFor('the other instance approved', () =>
        receiver.requests.some(
          request =>
            decrypt(request).event.instance_code === other &&
            decrypt(request).event.status === 'APPROVED',
        ),
      );
      // Only the first event of the held instance was tried (with its retries), nothing after it yet.
      expect(
        new Set(heldEvents().map(request => decrypt(request).uuid)).size,
      ).toBe(1);
      // Once it is out of retries, the next events go.
      await waitFor(
        'the held events',
        () =>
          new Set(heldEvents().map(request => decrypt(request).uuid)).size > 1,
        5000,
      );
    });

    it('answer deadline: a push answered after ~3 s counts as failed and is delivered again', async () => {
      const code = await quietInstance();
      let slow = true;
      receiver.answer = () => 200;
      const late = await startReceiver(async (_req, res) => {
        const wait = slow;
        slow = false;
        if (wait) await sleep(3500);
        res.statusCode = 200;
        res.end('{}');
      });
      await control(sandbox).patch(`/feishu/apps/${APP.appId}`, {
        callbackUrl: late.url,
      });
      try {
        await control(sandbox).post(`/feishu/instances/${code}/reject`, {});
        const log = await waitFor(
          'the redelivery after the deadline',
          async () => {
            const answer = await control(sandbox).get('/feishu/deliveries');
            return answer.body.some(
              (record: { attempt: number; outcome: string }) =>
                record.attempt === 2 && record.outcome === 'delivered',
            )
              ? answer.body
              : undefined;
          },
          8000,
        );
        expect(log[0]).toMatchObject({
          attempt: 1,
          outcome: 'failed',
          error: expect.stringContaining('no answer within 3000 ms'),
        });
      } finally {
        await late.close();
      }
    });

    it("the retry schedule is Feishu's (15 s, 5 min, 1 h, 6 h), compressible by a time scale", () => {
      expect(FEISHU_RETRY_DELAYS_MS).toEqual([
        15_000, 300_000, 3_600_000, 21_600_000,
      ]);
      expect(feishuRetryDelaysMs(0.001)).toEqual([15, 300, 3600, 21_600]);
    });

    it("with timeScale 0.001, redeliveries follow Feishu's schedule at that scale: ~15 ms, then ~300 ms later", async () => {
      const api = await setup({ timeScale: 0.001 });
      receiver.answer = () => 500;
      await api.createInstance();

      await waitFor(
        'the first two retries',
        () => receiver.requests.length >= 3,
      );
      const [first, second, third] = receiver.requests
        .slice(0, 3)
        .map(request => request.at);
      expect(second - first).toBeGreaterThanOrEqual(14);
      expect(second - first).toBeLessThan(200);
      expect(third - second).toBeGreaterThanOrEqual(290);
      expect(third - second).toBeLessThan(800);
    });

    it('gives up after the configured retries', async () => {
      const code = await quietInstance();
      receiver.answer = () => 503;
      await control(sandbox).post(`/feishu/instances/${code}/approve`, {});

      // One try and two retries (the test sandbox's callbackRetryDelaysMs) for each of three events.
      await waitFor('every attempt', () => receiver.requests.length === 9);
      await sleep(300);
      expect(receiver.requests).toHaveLength(9);
    });
  });

  describe('robustness', () => {
    it('records an unreachable receiver as a failed attempt and keeps serving', async () => {
      const api = await setup();
      await receiver.close();
      await api.createInstance();

      const log = await waitFor('failed attempts', async () => {
        const answer = await control(sandbox).get('/feishu/deliveries');
        return answer.body.some(
          (record: { attempt: number }) => record.attempt === 3,
        )
          ? answer.body
          : undefined;
      });
      expect(log[0]).toMatchObject({
        outcome: 'failed',
        error: expect.stringContaining('ECONNREFUSED'),
      });
      expect((await api.get('/approval/v4/approvals/DEPLOY')).body.code).toBe(
        0,
      );
      receiver = await startReceiver();
    });

    it('close() cancels pending retries', async () => {
      await setup({ callbackRetryDelaysMs: [300, 300] });
      receiver.answer = () => 500;
      const api = await feishu(sandbox);
      await api.createInstance();
      // Events of one instance go one at a time: the first is tried, the others wait for it.
      await waitFor('the first attempt', () => receiver.requests.length === 1);

      await sandbox.close();
      await sleep(500);
      expect(receiver.requests).toHaveLength(1);
    });
  });
});
