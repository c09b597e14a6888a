import { DWClient, type DWClientDownStream, EventAck } from 'dingtalk-stream';
import type { Sandbox } from '../server';
import { DINGTALK_APP, dingtalk } from '../testing/dingtalk';
import { connectedSdk, routeSdkToSandbox } from './__testUtils__/sdkGateway';
import { control, startTestSandbox, waitFor } from '../testing/sandbox';

// The official dingtalk-stream SDK's DWClient as the client of the sandbox's Stream gateway.

const STREAM_APP = {
  ...DINGTALK_APP,
  appKey: 'dingstreamapp',
  mode: 'stream' as const,
};

describe('the DingTalk Stream gateway', () => {
  let sandbox: Sandbox;
  let client: DWClient | undefined;
  let unroute: () => void;

  beforeEach(async () => {
    sandbox = await startTestSandbox({
      longConnectionAckTimeoutMs: 300,
      dingtalkStreamPingIntervalMs: 100,
    });
    await control(sandbox).post('/dingtalk/apps', STREAM_APP);
    unroute = routeSdkToSandbox(sandbox);
  });
  afterEach(async () => {
    client?.disconnect();
    client = undefined;
    unroute();
    await sandbox.close();
  });

  async function connect(onEvent: (message: DWClientDownStream) => EventAck) {
    client = await connectedSdk(sandbox, STREAM_APP, sdk =>
      sdk.registerAllEventListener(message => ({ status: onEvent(message) })),
    );
  }

  const deliveries = async () =>
    (
      (await control(sandbox).get('/dingtalk/deliveries')).body as Array<
        Record<string, unknown>
      >
    ).filter(record => record.appId === STREAM_APP.appKey);

  it('pushes approval events as EVENT frames that the SDK acks', async () => {
    const messages: DWClientDownStream[] = [];
    await connect(message => {
      messages.push(message);
      return EventAck.SUCCESS;
    });
    const api = await dingtalk(sandbox);
    const id = await api.createInstance();
    await control(sandbox).post(`/dingtalk/instances/${id}/reject`, {
      userId: 'alice',
      comment: 'no',
    });

    await waitFor('six events', () => messages.length === 6);
    const finish = messages.find(
      message =>
        message.headers.eventType === 'bpms_instance_change' &&
        JSON.parse(message.data).type === 'finish',
    );
    expect(finish?.headers).toMatchObject({
      topic: '*',
      eventCorpId: 'dingtestcorp',
      eventId: expect.any(String),
      messageId: expect.any(String),
    });
    expect(JSON.parse(finish?.data ?? '{}')).toMatchObject({
      processInstanceId: id,
      processCode: 'PROC-DEPLOY',
      result: 'refuse',
      staffId: 'bot',
    });
    const task = messages.find(
      message =>
        message.headers.eventType === 'bpms_task_change' &&
        JSON.parse(message.data).result === 'refuse',
    );
    expect(JSON.parse(task?.data ?? '{}')).toMatchObject({
      staffId: 'alice',
      type: 'finish',
      remark: 'no',
      eventId: task?.headers.eventId,
    });

    await waitFor(
      'six acks',
      async () =>
        (await deliveries()).filter(record => record.outcome === 'delivered')
          .length === 6,
    );
    expect(
      (await deliveries()).every(record => record.channel === 'stream'),
    ).toBe(true);
  });

  it('pushes again what the SDK answers LATER, and what it never acked before the connection dropped', async () => {
    let later = true;
    const messages: DWClientDownStream[] = [];
    await connect(message => {
      messages.push(message);
      if (later) {
        later = false;
        return EventAck.LATER;
      }
      return EventAck.SUCCESS;
    });
    const api = await dingtalk(sandbox);
    await api.createInstance({
      approvers: [{ actionType: 'NONE', userIds: ['alice'] }],
    });
    await waitFor('the LATER event pushed again', () => messages.length === 3);
    expect(new Set(messages.map(message => message.headers.eventId)).size).toBe(
      2,
    );

    // Drop the connection and keep the gateway refusing for a while: events wait, then arrive.
    const [instance] = (await control(sandbox).get('/dingtalk/instances')).body;
    expect(
      (
        await control(sandbox).post('/dingtalk/stream/drop', {
          appId: STREAM_APP.appKey,
          downForMs: 1500,
        })
      ).body,
    ).toEqual({ closed: 1 });
    await control(sandbox).post(
      `/dingtalk/instances/${instance.processInstanceId}/approve`,
    );
    await waitFor(
      'queued events',
      async () =>
        (await deliveries()).filter(record => record.outcome === 'queued')
          .length === 2,
    );
    expect(messages).toHaveLength(3);

    await waitFor(
      'the events after the SDK reconnected',
      () => messages.length === 5,
      6000,
    );
    const types = messages
      .slice(3)
      .map(
        message =>
          `${message.headers.eventType} ${JSON.parse(message.data).type}`,
      );
    expect(types.sort()).toEqual([
      'bpms_instance_change finish',
      'bpms_task_change finish',
    ]);
  }, 10_000);

  it('refuses wrong credentials at the gateway', async () => {
    const answer = await fetch(`${sandbox.url}/v1.0/gateway/connections/open`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        clientId: STREAM_APP.appKey,
        clientSecret: 'wrong',
        subscriptions: [{ type: 'EVENT', topic: '*' }],
      }),
    });
    expect(answer.status).toBe(401);
  });
});
