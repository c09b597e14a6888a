import { mockServices } from '@backstage/backend-test-utils';
import type { DingtalkIntegration } from '@im-approval/plugin-im-approval-common';
import { requestJson } from '../api/requestJson';
import { openDingtalkStream } from './dingtalkStream';

jest.mock('../api/requestJson', () => ({
  ...jest.requireActual('../api/requestJson'),
  requestJson: jest.fn(),
}));

/** A WebSocket the test drives by hand: it fires the events the test asks for. */
class FakeSocket extends EventTarget {
  static readonly OPEN = 1;
  static created: FakeSocket[] = [];
  readyState = 0;
  sent: string[] = [];
  constructor(readonly url: string) {
    super();
    FakeSocket.created.push(this);
  }
  send(text: string) {
    this.sent.push(text);
  }
  close() {
    this.readyState = 3;
  }
  fire(type: string, data?: string) {
    this.dispatchEvent(Object.assign(new Event(type), { data }));
  }
}

const integration = {
  id: 'stream-app',
  provider: 'dingtalk',
  baseUrl: 'http://127.0.0.1:1',
  legacyBaseUrl: 'http://127.0.0.1:1',
  appKey: 'key',
  appSecret: 'secret',
  connectionMode: 'stream',
  initiator: 'bot',
} as DingtalkIntegration;

const ticket = {
  status: 200,
  json: { endpoint: 'ws://127.0.0.1:1/connect', ticket: 't' },
};

const ping = JSON.stringify({
  type: 'SYSTEM',
  headers: { topic: 'ping', messageId: 'm1' },
  data: '{}',
});

describe('DingTalk Stream', () => {
  const realWebSocket = globalThis.WebSocket;
  const observer = {
    connected: jest.fn(),
    reconnecting: jest.fn(),
    failed: jest.fn(),
  };

  beforeEach(() => {
    jest.useFakeTimers();
    FakeSocket.created = [];
    globalThis.WebSocket = FakeSocket as unknown as typeof WebSocket;
    jest.mocked(requestJson).mockReset();
    jest.clearAllMocks();
  });
  afterEach(() => {
    jest.useRealTimers();
    globalThis.WebSocket = realWebSocket;
  });

  const open = () =>
    openDingtalkStream(
      integration,
      mockServices.logger.mock(),
      async () => undefined,
      observer,
    );

  it('opens no socket when closed while a reconnect fetches its ticket', async () => {
    jest.mocked(requestJson).mockResolvedValueOnce(ticket);
    const connection = await open();
    expect(FakeSocket.created).toHaveLength(1);

    let answer: (value: typeof ticket) => void = () => undefined;
    jest
      .mocked(requestJson)
      .mockReturnValueOnce(new Promise(resolve => (answer = resolve)));
    FakeSocket.created[0].fire('close');
    await jest.advanceTimersByTimeAsync(1_000);
    expect(requestJson).toHaveBeenCalledTimes(2);

    await connection.close();
    answer(ticket);
    await jest.advanceTimersByTimeAsync(60_000);
    expect(FakeSocket.created).toHaveLength(1);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('ignores the events of a socket it no longer holds', async () => {
    jest.mocked(requestJson).mockResolvedValue(ticket);
    const connection = await open();
    const [first] = FakeSocket.created;
    await connection.close();
    first.readyState = 1;
    first.fire('open');
    first.fire('message', ping);
    expect(observer.connected).not.toHaveBeenCalled();
    expect(first.sent).toEqual([]);
  });

  it('answers a ping and reports the connection open on the socket it holds', async () => {
    jest.mocked(requestJson).mockResolvedValue(ticket);
    const connection = await open();
    const [socket] = FakeSocket.created;
    socket.readyState = 1;
    socket.fire('open');
    socket.fire('message', ping);
    expect(observer.connected).toHaveBeenCalledTimes(1);
    expect(socket.sent).toHaveLength(1);
    await connection.close();
  });

  describe('card clicks (CALLBACK frames of the card topic)', () => {
    const cardFrame = (data: object, topic = '/v1.0/card/instances/callback') =>
      JSON.stringify({
        type: 'CALLBACK',
        headers: { topic, messageId: 'cb1' },
        data: JSON.stringify(data),
      });
    const click = {
      outTrackId: 'im-approval-a1',
      userId: 'alice',
      spaceType: 'IM_GROUP',
      spaceId: 'cidRoom==',
      content: JSON.stringify({
        cardPrivateData: { actionIds: ['approve'], params: {} },
      }),
    };
    const connected = async (onCardClick: jest.Mock) => {
      jest.mocked(requestJson).mockResolvedValue(ticket);
      const connection = await openDingtalkStream(
        integration,
        mockServices.logger.mock(),
        async () => undefined,
        observer,
        onCardClick,
      );
      const [socket] = FakeSocket.created;
      socket.readyState = 1;
      socket.fire('open');
      return { connection, socket };
    };
    /** The `nth` frame the client sent back, once its handler is done: the callback's answer. */
    const answer = async (socket: FakeSocket, nth: number) => {
      for (let i = 0; i < 20 && socket.sent.length < nth; i++)
        await Promise.resolve();
      const frame = JSON.parse(socket.sent[nth - 1]!);
      expect(frame).toMatchObject({ code: 200, headers: { messageId: 'cb1' } });
      return JSON.parse(frame.data).response;
    };

    it('subscribes to the card topic only with a click handler', async () => {
      await connected(jest.fn());
      expect(jest.mocked(requestJson).mock.calls[0][0].body).toMatchObject({
        subscriptions: [
          { type: 'EVENT', topic: '*' },
          { type: 'CALLBACK', topic: '/v1.0/card/instances/callback' },
        ],
      });
    });

    it('answers a click with the handler’s card for everyone and its toast for the clicker', async () => {
      const onCardClick = jest.fn().mockResolvedValue({
        toast: {
          kind: 'error',
          text: 'You are not an approver of this request.',
        },
      });
      const { connection, socket } = await connected(onCardClick);
      socket.fire('message', cardFrame(click));
      expect(await answer(socket, 1)).toEqual({
        cardUpdateOptions: {
          updateCardDataByKey: false,
          updatePrivateDataByKey: true,
        },
        userPrivateData: {
          cardParamMap: { notice: 'You are not an approver of this request.' },
        },
      });
      expect(onCardClick).toHaveBeenCalledWith(
        expect.objectContaining({
          approvalId: 'a1',
          action: 'approve',
          userId: 'alice',
          chatId: 'cidRoom==',
        }),
      );
      await connection.close();
    });

    it('answers anything else empty, so DingTalk does not push it again, and a failed handler with a notice', async () => {
      const onCardClick = jest.fn().mockRejectedValue(new Error('db down'));
      const { connection, socket } = await connected(onCardClick);
      socket.fire('message', cardFrame({ outTrackId: 'their-card' }));
      expect(await answer(socket, 1)).toEqual({});
      socket.fire('message', cardFrame(click, '/v1.0/im/bot/messages/get'));
      expect(await answer(socket, 2)).toEqual({});
      expect(onCardClick).not.toHaveBeenCalled();
      socket.fire('message', cardFrame(click));
      expect((await answer(socket, 3)).userPrivateData).toEqual({
        cardParamMap: {
          notice: 'Not recorded: the approval service failed; try again.',
        },
      });
      await connection.close();
    });
  });
});
