import {
  DWClient,
  type DWClientDownStream,
  EventAck,
  TOPIC_CARD,
} from 'dingtalk-stream';
import type { Sandbox } from '../server';
import {
  DINGTALK_APP,
  DINGTALK_CARD_TEMPLATE,
  DINGTALK_CHAT,
  dingtalk,
} from '../testing/dingtalk';
import { connectedSdk, routeSdkToSandbox } from './__testUtils__/sdkGateway';
import { control, startTestSandbox } from '../testing/sandbox';

// DingTalk's interactive cards in a group: delivered and updated by API as DingTalk checks them,
// clicked by members, the click called back to the official dingtalk-stream SDK's card topic
// listener and its answer applied as DingTalk applies it.

const STREAM_APP = {
  ...DINGTALK_APP,
  appKey: 'dingstreamapp',
  mode: 'stream' as const,
};
const CHAT = DINGTALK_CHAT.openConversationId;

const delivery = (overrides: Record<string, unknown> = {}) => ({
  cardTemplateId: DINGTALK_CARD_TEMPLATE.templateId,
  outTrackId: 'card-1',
  callbackType: 'STREAM',
  cardData: {
    cardParamMap: { title: 'Deploy api', status: 'Pending', decidable: 'true' },
  },
  openSpaceId: `dtv1.card//IM_GROUP.${CHAT}`,
  imGroupOpenSpaceModel: { supportForward: false },
  imGroupOpenDeliverModel: { robotCode: STREAM_APP.appKey },
  userIdType: 1,
  ...overrides,
});

describe('DingTalk interactive cards in a group', () => {
  let sandbox: Sandbox;
  let client: DWClient | undefined;
  let unroute: () => void;
  let api: Awaited<ReturnType<typeof dingtalk>>;

  beforeEach(async () => {
    sandbox = await startTestSandbox();
    await control(sandbox).post('/dingtalk/apps', STREAM_APP);
    await control(sandbox).post('/dingtalk/chats', DINGTALK_CHAT);
    await control(sandbox).post(
      '/dingtalk/card-templates',
      DINGTALK_CARD_TEMPLATE,
    );
    api = await dingtalk(sandbox, STREAM_APP);
    unroute = routeSdkToSandbox(sandbox);
  });
  afterEach(async () => {
    client?.disconnect();
    client = undefined;
    unroute();
    await sandbox.close();
  });

  /** The SDK connected with a card listener (or, without one, only an event listener). */
  async function connect(onCard?: (message: DWClientDownStream) => void) {
    client = await connectedSdk(sandbox, STREAM_APP, sdk => {
      sdk.registerAllEventListener(() => ({ status: EventAck.SUCCESS }));
      if (onCard) sdk.registerCallbackListener(TOPIC_CARD, onCard);
    });
  }
  const cards = async (user?: string) =>
    (
      await control(sandbox).get(
        `/dingtalk/chats/${encodeURIComponent(CHAT)}/cards${user ? `?user=${user}` : ''}`,
      )
    ).body as Array<{ outTrackId: string; text: string; buttons: string[] }>;
  const click = (body: object) =>
    control(sandbox).post(
      `/dingtalk/chats/${encodeURIComponent(CHAT)}/cards/card-1/click`,
      body,
    );

  it('refuses a card DingTalk would not deliver, naming why', async () => {
    const refused = async (overrides: Record<string, unknown>) =>
      (
        await api.post(
          '/v1.0/card/instances/createAndDeliver',
          delivery(overrides),
        )
      ).body;
    expect(await refused({ cardTemplateId: 'draft.schema' })).toMatchObject({
      code: 'param.templateUnpublished',
    });
    expect(
      await refused({ cardData: { cardParamMap: { decidable: true } } }),
    ).toMatchObject({ code: 'InvalidParameter' });
    expect(
      await refused({ openSpaceId: 'dtv1.card//IM_GROUP.cidUnknown==' }),
    ).toMatchObject({ code: 'InvalidParameter' });
    expect(
      await refused({ imGroupOpenDeliverModel: { robotCode: 'someoneelse' } }),
    ).toMatchObject({ code: 'InvalidParameter' });
    await control(sandbox).post('/dingtalk/chats', {
      ...DINGTALK_CHAT,
      robots: [],
    });
    expect(await refused({})).toMatchObject({ code: 'robot.not.in.group' });
    await control(sandbox).post('/dingtalk/chats', DINGTALK_CHAT);
    await control(sandbox).patch(`/dingtalk/apps/${STREAM_APP.appKey}`, {
      revokedPermissions: ['Card.Instance.Write'],
    });
    const denied = await api.post(
      '/v1.0/card/instances/createAndDeliver',
      delivery(),
    );
    expect(denied.status).toBe(403);
    expect(denied.body.accessdenieddetail.requiredScopes).toEqual([
      'Card.Instance.Write',
    ]);
    expect(await cards()).toEqual([]);
  });

  it('delivers once per outTrackId, and updates the data for everyone, whole or by key', async () => {
    const delivered = await api.post(
      '/v1.0/card/instances/createAndDeliver',
      delivery(),
    );
    expect(delivered.body).toMatchObject({
      success: true,
      result: {
        outTrackId: 'card-1',
        deliverResults: [
          { spaceType: 'IM_GROUP', spaceId: CHAT, success: true },
        ],
      },
    });
    expect(
      (await api.post('/v1.0/card/instances/createAndDeliver', delivery()))
        .status,
    ).toBe(400);
    expect((await cards())[0]).toMatchObject({
      text: 'Deploy api\nStatus: Pending',
      buttons: ['Approve'],
    });

    await api.put('/v1.0/card/instances', {
      outTrackId: 'card-1',
      cardData: { cardParamMap: { status: 'Approved' } },
      cardUpdateOptions: { updateCardDataByKey: true },
    });
    expect((await cards('bob'))[0]?.text).toBe('Deploy api\nStatus: Approved');
    // Without updateCardDataByKey the data is replaced: the title and the buttons go.
    await api.put('/v1.0/card/instances', {
      outTrackId: 'card-1',
      cardData: { cardParamMap: { status: 'Canceled' } },
    });
    expect((await cards())[0]).toMatchObject({
      text: 'Status: Canceled',
      buttons: [],
    });
    const unknown = await api.put('/v1.0/card/instances', {
      outTrackId: 'card-2',
      cardData: { cardParamMap: {} },
    });
    expect(unknown.status).toBe(400);
  });

  it('calls a click back to the SDK’s card listener and applies its answer: the shared data for everyone, the private for the clicker', async () => {
    const received: DWClientDownStream[] = [];
    await connect(message => {
      received.push(message);
      client!.socketCallBackResponse(message.headers.messageId, {
        cardUpdateOptions: { updatePrivateDataByKey: true },
        cardData: {
          cardParamMap: { title: 'Deploy api', status: 'Approved' },
        },
        userPrivateData: { cardParamMap: { notice: 'Recorded.' } },
      });
    });
    await api.post('/v1.0/card/instances/createAndDeliver', delivery());

    const answered = await click({
      userId: 'alice',
      button: 'Approve',
      input: 'ship it',
    });
    expect(answered.body).toEqual({
      answered: true,
      seen: ['Deploy api', 'Status: Approved', 'Recorded.'],
    });
    expect(received).toHaveLength(1);
    expect(received[0]!.headers.topic).toBe(TOPIC_CARD);
    const data = JSON.parse(received[0]!.data);
    expect(data).toMatchObject({
      outTrackId: 'card-1',
      userId: 'alice',
      spaceType: 'IM_GROUP',
      spaceId: CHAT,
      type: 'actionCallback',
    });
    expect(JSON.parse(data.content)).toEqual({
      cardPrivateData: {
        actionIds: ['approve'],
        params: { action: 'approve', title: 'Deploy api', comment: 'ship it' },
      },
    });
    expect((await cards('bob'))[0]?.text).toBe('Deploy api\nStatus: Approved');
    expect((await cards('alice'))[0]?.text).toContain('Recorded.');
  });

  it('tells the clicker of an error when the app does not listen to card callbacks, or answers after 2 s', async () => {
    await api.post('/v1.0/card/instances/createAndDeliver', delivery());
    const unheard = await click({ userId: 'alice', button: 'Approve' });
    expect(unheard.body).toMatchObject({
      answered: false,
      error: expect.stringContaining('no Stream connection subscribed'),
    });

    await connect(() => undefined);
    const late = await click({ userId: 'alice', button: 'Approve' });
    expect(late.body).toMatchObject({
      answered: false,
      error: 'no answer within 2000 ms',
    });
    expect((await cards())[0]?.text).toBe('Deploy api\nStatus: Pending');

    const outsider = await click({ userId: 'dave', button: 'Approve' });
    expect(outsider.status).toBe(409);
  });

  it('executes an approver’s own running task, and refuses someone else’s', async () => {
    const id = await api.createInstance();
    const read = await api.get(
      `/v1.0/workflow/processInstances?processInstanceId=${id}`,
    );
    const task = read.body.result.tasks.find(
      (candidate: { userId: string }) => candidate.userId === 'alice',
    );
    const execute = (body: object) =>
      api.post('/v1.0/workflow/processInstances/execute', {
        processInstanceId: id,
        result: 'agree',
        ...body,
      });
    const notTheirs = await execute({
      taskId: task.taskId,
      actionerUserId: 'bob',
    });
    expect(notTheirs.body).toMatchObject({ code: 'taskNotExist' });
    expect(
      (await execute({ taskId: 'x', actionerUserId: 'alice' })).body,
    ).toMatchObject({ code: 'InvalidParameter' });

    const done = await execute({
      taskId: task.taskId,
      actionerUserId: 'alice',
      remark: 'ship it',
    });
    expect(done.body).toEqual({ success: true, result: true });
    const after = await api.get(
      `/v1.0/workflow/processInstances?processInstanceId=${id}`,
    );
    expect(after.body.result).toMatchObject({
      status: 'COMPLETED',
      result: 'agree',
    });
    expect(
      (await execute({ taskId: task.taskId, actionerUserId: 'alice' })).body,
    ).toMatchObject({ code: 'taskNotRunning' });
  });
});
