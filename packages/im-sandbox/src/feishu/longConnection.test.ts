import { once } from 'node:events';
import * as lark from '@larksuiteoapi/node-sdk';
import { WebSocket } from 'ws';
import type { Sandbox } from '../server';
import { quietLogger } from '../testing/lark';
import {
  APP,
  call,
  control,
  feishu,
  startTestSandbox,
  waitFor,
} from '../testing/sandbox';

// The official SDK's WSClient as the client of the sandbox's long connection.

// WSClient.start() refuses app ids not shaped like Feishu's.
const WS_APP = {
  ...APP,
  appId: 'cli_a1b2c3d4e5f60718',
  mode: 'long-connection' as const,
};

describe('the Feishu long connection', () => {
  let sandbox: Sandbox;
  let client: lark.WSClient | undefined;

  beforeEach(async () => {
    sandbox = await startTestSandbox({
      longConnectionAckTimeoutMs: 300,
      feishuClientConfig: {
        PingInterval: 0.2,
        ReconnectInterval: 0.1,
        ReconnectNonce: 0,
      },
    });
    await control(sandbox).post('/feishu/apps', WS_APP);
  });
  afterEach(async () => {
    client?.close({ force: true });
    client = undefined;
    await sandbox.close();
  });

  /** Starts the SDK's client; `handle` sees every approval_instance event and may throw to refuse the ack. */
  async function connect(handle: (event: Record<string, unknown>) => void) {
    const api = await feishu(sandbox, WS_APP);
    await api.post('/approval/v4/approvals/DEPLOY/subscribe');
    const ready = new Promise<void>(resolve => {
      client = new lark.WSClient({
        appId: WS_APP.appId,
        appSecret: WS_APP.appSecret,
        domain: sandbox.url,
        logger: quietLogger,
        onReady: resolve,
      });
    });
    const dispatcher = new lark.EventDispatcher({
      logger: quietLogger,
    }).register({
      approval_instance: async (data: Record<string, unknown>) => handle(data),
      approval_task: async () => undefined,
    });
    await client!.start({ eventDispatcher: dispatcher });
    await ready;
    return api;
  }

  const deliveries = async () =>
    (await control(sandbox).get('/feishu/deliveries')).body as Array<
      Record<string, unknown>
    >;

  it('pushes v1 approval events as plain JSON, and takes the SDK ack as delivery', async () => {
    const events: Array<Record<string, unknown>> = [];
    const api = await connect(event => events.push(event));
    const code = await api.createInstance();
    await control(sandbox).post(`/feishu/instances/${code}/approve`, {
      openId: 'ou_alice',
      comment: 'ok',
    });

    await waitFor('the APPROVED event', () =>
      events.find(event => event.status === 'APPROVED'),
    );
    expect(events).toEqual([
      expect.objectContaining({
        instance_code: code,
        status: 'PENDING',
        app_id: WS_APP.appId,
        approval_code: 'DEPLOY',
      }),
      expect.objectContaining({
        instance_code: code,
        status: 'APPROVED',
        token: WS_APP.verificationToken,
      }),
    ]);
    const log = await waitFor('six acks', async () => {
      const all = await deliveries();
      return all.filter(record => record.outcome === 'delivered').length === 6
        ? all
        : undefined;
    });
    expect(
      log.every(
        record =>
          record.channel === 'long-connection' && record.url === undefined,
      ),
    ).toBe(true);
    expect((await control(sandbox).get('/feishu/connections')).body).toEqual([
      { appId: WS_APP.appId, connections: 1, pending: 0 },
    ]);
  });

  it('pushes an event again when the handler fails and the ack says so', async () => {
    let calls = 0;
    const api = await connect(event => {
      if (event.status === 'PENDING' && ++calls === 1)
        throw new Error('database down');
    });
    const code = await api.createInstance();

    await waitFor('the second push', () => calls === 2);
    const log = await waitFor('the delivery', async () => {
      const all = (await deliveries()).filter(
        record => record.eventType === 'approval_instance',
      );
      return all.some(record => record.outcome === 'delivered')
        ? all
        : undefined;
    });
    expect(log).toEqual([
      expect.objectContaining({
        instanceCode: code,
        attempt: 1,
        outcome: 'failed',
        error: 'no ack within 300 ms',
        willRetry: true,
      }),
      expect.objectContaining({
        instanceCode: code,
        attempt: 2,
        outcome: 'delivered',
      }),
    ]);
  });

  it("holds an instance's later events while one is unacknowledged, as over callbacks", async () => {
    const seen: string[] = [];
    let refused = false;
    const api = await connect(event => {
      seen.push(String(event.status));
      if (event.status === 'PENDING' && !refused) {
        refused = true;
        throw new Error('database down');
      }
    });
    const code = await api.createInstance();
    await waitFor('the first push', () => refused);
    await control(sandbox).post(`/feishu/instances/${code}/approve`, {
      openId: 'ou_alice',
    });

    await waitFor('the APPROVED event', () => seen.includes('APPROVED'));
    // Pushed again after the ack timeout, and only then the decision.
    expect(seen).toEqual(['PENDING', 'PENDING', 'APPROVED']);
  });

  it('keeps events while the connection is down and delivers them once the SDK reconnects', async () => {
    const events: Array<Record<string, unknown>> = [];
    const api = await connect(event => events.push(event));
    const code = await api.createInstance();
    // Every event of the creation acknowledged: none is left in flight to hold the later ones back.
    await waitFor(
      "the creation's events acknowledged",
      async () =>
        (await deliveries()).filter(record => record.outcome === 'delivered')
          .length === 3,
    );

    const dropped = await control(sandbox).post('/feishu/connections/drop', {
      appId: WS_APP.appId,
      downForMs: 400,
    });
    expect(dropped.body).toEqual({ closed: 1 });
    await control(sandbox).post(`/feishu/instances/${code}/reject`, {
      comment: 'no',
    });
    // The decision's first event waits for a client; the later ones of the instance wait behind it.
    const queued = await waitFor('the queued event', async () =>
      (await deliveries()).find(
        record => record.outcome === 'queued' && record.instanceCode === code,
      ),
    );
    expect(queued).toMatchObject({ eventType: 'approval_task' });
    expect(events).toHaveLength(1);

    await waitFor(
      'the REJECTED event after reconnecting',
      () => events.find(event => event.status === 'REJECTED'),
      5000,
    );
    expect(events.map(event => event.status)).toEqual(['PENDING', 'REJECTED']);
  });

  it('refuses wrong credentials at the endpoint and connections without a valid ticket', async () => {
    const refused = await call(sandbox.url, 'POST', '/callback/ws/endpoint', {
      body: { AppID: WS_APP.appId, AppSecret: 'wrong' },
    });
    expect(refused.body).toMatchObject({ code: 514 });

    const granted = await call(sandbox.url, 'POST', '/callback/ws/endpoint', {
      body: { AppID: WS_APP.appId, AppSecret: WS_APP.appSecret },
    });
    expect(granted.body).toMatchObject({
      code: 0,
      data: { ClientConfig: { PingInterval: 0.2, ReconnectCount: -1 } },
    });
    const url = new URL(granted.body.data.URL);
    expect(url.searchParams.get('service_id')).toBe('1');
    url.searchParams.set('ticket', 'forged');
    const socket = new WebSocket(url.href);
    const [, response] = (await once(socket, 'unexpected-response')) as [
      unknown,
      { statusCode: number },
    ];
    expect(response.statusCode).toBe(403);
  });
});
