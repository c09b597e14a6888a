import * as lark from '@larksuiteoapi/node-sdk';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Sandbox } from '../server';
import { quietLogger } from '../testing/lark';
import {
  APP,
  control,
  feishu,
  formCard,
  startTestSandbox,
} from '../testing/sandbox';

// Cards in a group chat: sent and updated as Feishu's message API does, and a member's click sent
// to the app's card request URL as Feishu signs it, checked here by the official SDK's
// CardActionHandler, whose answer (a toast, a card) the chat then shows.

const CHAT = {
  chatId: 'oc_release',
  name: 'Release room',
  members: ['ou_alice', 'ou_bob', 'ou_carol'],
  bots: [APP.appId],
};

const card = (title: string, buttons = true, updateMulti = true) => ({
  config: { update_multi: updateMulti },
  header: { title: { tag: 'plain_text', content: title } },
  elements: [
    {
      tag: 'div',
      text: { tag: 'plain_text', content: 'Repository: acme/api' },
    },
    ...(buttons
      ? [
          {
            tag: 'action',
            actions: [
              {
                tag: 'button',
                text: { tag: 'plain_text', content: 'Approve' },
                value: { approvalId: 'a-1', action: 'approve' },
              },
            ],
          },
        ]
      : []),
  ],
});

describe('Feishu cards in group chats', () => {
  let sandbox: Sandbox;
  let receiver: Server;
  let received: Array<Record<string, any>>;

  beforeAll(async () => {
    sandbox = await startTestSandbox();
    const handler = new lark.CardActionHandler(
      {
        encryptKey: APP.encryptKey,
        verificationToken: APP.verificationToken,
        logger: quietLogger,
      },
      async (data: Record<string, any>) => {
        received.push(data);
        return {
          toast: { type: 'success', content: 'Approved' },
          card: { type: 'raw', data: card('Approved by Alice', false) },
        };
      },
    );
    receiver = createServer(lark.adaptDefault('/cards', handler));
    await new Promise<void>(resolve =>
      receiver.listen(0, '127.0.0.1', resolve),
    );
  });
  afterAll(async () => {
    await sandbox.close();
    await new Promise(resolve => receiver.close(resolve));
  });
  beforeEach(async () => {
    received = [];
    await control(sandbox).post('/reset');
    await control(sandbox).post('/feishu/chats', CHAT);
    const { port } = receiver.address() as AddressInfo;
    await control(sandbox).patch(`/feishu/apps/${APP.appId}`, {
      cardCallbackUrl: `http://127.0.0.1:${port}/cards`,
    });
  });

  const send = async (content: object, chatId = CHAT.chatId) =>
    (await feishu(sandbox)).post('/im/v1/messages?receive_id_type=chat_id', {
      receive_id: chatId,
      msg_type: 'interactive',
      content: JSON.stringify(content),
    });
  const chat = async () =>
    (await control(sandbox).get(`/feishu/chats/${CHAT.chatId}/messages`)).body;

  it('posts a card to a chat its bot is in, and updates it for everyone when it is shared', async () => {
    const sent = await send(card('Deploy api'));
    expect(sent.body.code).toBe(0);
    const id = sent.body.data.message_id;
    expect((await chat())[0]).toMatchObject({
      messageId: id,
      text: 'Deploy api\nRepository: acme/api\n[Approve]',
    });
    const api = await feishu(sandbox);
    const patch = (content: object) =>
      fetch(`${sandbox.url}/open-apis/im/v1/messages/${id}`, {
        method: 'PATCH',
        headers: {
          authorization: `Bearer ${api.token}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ content: JSON.stringify(content) }),
      }).then(r => r.json());
    expect((await patch(card('Deploy api', true, false))).code).toBe(230099);
    expect((await patch(card('Approved', false))).code).toBe(0);
    expect((await chat())[0].text).toBe('Approved\nRepository: acme/api');
  });

  it('refuses a chat its bot is not in (230002) and one that does not exist (230034)', async () => {
    await control(sandbox).post('/feishu/chats', {
      ...CHAT,
      chatId: 'oc_other',
      bots: [],
    });
    expect((await send(card('x'), 'oc_other')).body.code).toBe(230002);
    expect((await send(card('x'), 'oc_missing')).body.code).toBe(230034);
  });

  it("sends a member's click to the card request URL signed as Feishu signs it, and applies the answer", async () => {
    const id = (await send(card('Deploy api'))).body.data.message_id;
    const click = await control(sandbox).post(
      `/feishu/chats/${CHAT.chatId}/messages/${id}/click`,
      { openId: 'ou_carol', button: 'Approve' },
    );
    // The SDK verified the signature and decrypted it, or it would not have answered.
    expect(click.body).toEqual({
      status: 200,
      toast: { type: 'success', content: 'Approved' },
      updated: true,
    });
    expect(received).toEqual([
      expect.objectContaining({
        event_type: 'card.action.trigger',
        operator: expect.objectContaining({ open_id: 'ou_carol' }),
        action: expect.objectContaining({
          value: { approvalId: 'a-1', action: 'approve' },
        }),
        context: { open_message_id: id, open_chat_id: CHAT.chatId },
      }),
    ]);
    expect((await chat())[0].text).toBe(
      'Approved by Alice\nRepository: acme/api',
    );
  });

  it("sends a form's inputs with its submit button, and no inputs with a plain button", async () => {
    const form = formCard('Reject');
    const id = (await send(form)).body.data.message_id;
    expect((await chat())[0].text).toBe('[comment …]\n[Reject]');
    await control(sandbox).post(
      `/feishu/chats/${CHAT.chatId}/messages/${id}/click`,
      { openId: 'ou_bob', button: 'Reject', input: { comment: 'not today' } },
    );
    const plain = (await send(card('Deploy api'))).body.data.message_id;
    await control(sandbox).post(
      `/feishu/chats/${CHAT.chatId}/messages/${plain}/click`,
      { openId: 'ou_bob', button: 'Approve', input: { comment: 'ignored' } },
    );
    expect(received.map(event => event.action.form_value)).toEqual([
      { comment: 'not today' },
      undefined,
    ]);
  });

  it('refuses a click from outside the chat or on a button the card does not have', async () => {
    const id = (await send(card('Deploy api'))).body.data.message_id;
    const path = `/feishu/chats/${CHAT.chatId}/messages/${id}/click`;
    expect(
      (
        await control(sandbox).post(path, {
          openId: 'ou_bot',
          button: 'Approve',
        })
      ).status,
    ).toBe(409);
    expect(
      (
        await control(sandbox).post(path, {
          openId: 'ou_bob',
          button: 'Reject',
        })
      ).status,
    ).toBe(404);
    expect(received).toEqual([]);
  });
});

describe('Feishu task approve and reject (POST approval/v4/tasks/…)', () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await startTestSandbox();
  });
  afterAll(() => sandbox.close());

  it("decides the approver's own pending task for them, and refuses anyone else's", async () => {
    const api = await feishu(sandbox);
    const code = await api.createInstance();
    const tasks = (await api.get(`/approval/v4/instances/${code}`)).body.data
      .task_list as Array<{ id: string; open_id: string }>;
    const alice = tasks.find(task => task.open_id === 'ou_alice')!;
    const decide = (userId: string, decision = 'approve') =>
      api.post(`/approval/v4/tasks/${decision}?user_id_type=open_id`, {
        approval_code: 'DEPLOY',
        instance_code: code,
        user_id: userId,
        task_id: alice.id,
        comment: 'from the card',
      });
    expect((await decide('ou_bob')).body.code).toBe(1390010);
    expect((await decide('ou_alice')).body).toEqual({
      code: 0,
      msg: 'success',
      data: {},
    });
    const instance = (await api.get(`/approval/v4/instances/${code}`)).body
      .data;
    expect(instance.status).toBe('APPROVED');
    expect(instance.timeline.at(-1)).toMatchObject({
      type: 'PASS',
      open_id: 'ou_alice',
      comment: 'from the card',
    });
    expect((await decide('ou_alice', 'reject')).body.code).toBe(1390001);
  });
});
