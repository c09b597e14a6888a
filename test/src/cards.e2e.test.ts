import type { ApprovalWithTimeline } from '@im-approval/plugin-im-approval-common';
import { eventually, openApproval } from './__testUtils__/flow';
import {
  FEISHU_APP,
  FEISHU_CAROL,
  feishuCallback,
  withUsers,
} from './__testUtils__/ims';
import {
  api,
  getWithTimeline,
  sandboxControl,
  type Stack,
} from './__testUtils__/stack';
import { catalogUser, startCardedStack } from './__testUtils__/cards';

// A request's card in a Feishu group chat: posted with its context once the IM request is open,
// decided from the card by an approver (the Feishu request follows, as Feishu's task approve), a
// member who is not an approver refused with a toast only they see, and the card updated in place
// for everyone when the request is decided, cancelled or expires. Clicks reach the backend as
// Feishu signs card callbacks, through the sandbox.
jest.setTimeout(120_000);

const FEISHU = withUsers(feishuCallback, FEISHU_CAROL);
const CHAT = {
  chatId: 'oc_release',
  name: 'Release room',
  members: ['ou_alice', 'ou_bob', 'ou_carol'],
  bots: [FEISHU_APP.appId],
};

interface ChatMessage {
  messageId: string;
  text: string;
  links: string[];
}

/** The release room's messages, cards as last updated. */
const messagesOf = (stack: Stack) =>
  sandboxControl<ChatMessage[]>(
    stack.sandbox,
    'GET',
    `/feishu/chats/${CHAT.chatId}/messages`,
  );

describe('approval cards in a Feishu group chat (real backend, SQLite, the Feishu sandbox)', () => {
  let stack: Stack;
  const backend = () => stack.backends[0];

  beforeAll(async () => {
    stack = await startCardedStack(FEISHU, CHAT.chatId, {
      approvers: ['ou_alice', 'ou_bob'],
      approverMode: 'any',
    });
    await sandboxControl(stack.sandbox, 'POST', '/feishu/chats', CHAT);
    await sandboxControl(
      stack.sandbox,
      'PATCH',
      `/feishu/apps/${FEISHU_APP.appId}`,
      {
        cardCallbackUrl: `${backend().api}/callbacks/feishu/${FEISHU.integrationId}/cards`,
      },
    );
  });
  afterAll(() => stack?.stop());

  const chat = () => messagesOf(stack);
  /** Opens a carded request and waits for its card in the chat. */
  const opened = async (
    extra: object = {},
    claims: Parameters<typeof openApproval>[3] = {},
  ) => {
    const { approval, token } = await openApproval(
      stack,
      backend(),
      { template: 'carded', ...extra },
      claims,
    );
    const card = await eventually(
      async () =>
        (await chat()).find(
          m =>
            m.text.includes(approval.id) ||
            m.links.some(l => l.includes(approval.id)),
        ),
      found => found !== undefined,
    );
    return { approval, token, card: card! };
  };
  const cardNow = async (messageId: string) =>
    (await chat()).find(m => m.messageId === messageId)!;
  const click = (
    messageId: string,
    openId: string,
    button: string,
    comment?: string,
  ) =>
    sandboxControl(
      stack.sandbox,
      'POST',
      `/feishu/chats/${CHAT.chatId}/messages/${messageId}/click`,
      { openId, button, ...(comment && { input: { comment } }) },
    );
  const read = async (id: string, token: string) =>
    (await getWithTimeline(backend(), id, token)).body as ApprovalWithTimeline;

  it('posts the card with the context and buttons, refuses a member who is not an approver, and decides for an approver in Feishu too', async () => {
    const { approval, token, card } = await opened();
    expect(card.text).toContain('Deploy api from acme/api');
    expect(card.text).toContain('Repository: acme/api');
    expect(card.text).toContain('[Approve]');
    expect(card.text).toContain('[Reject]');
    // People by their names in Feishu.
    expect(card.text).toContain('Waiting on: Alice Chen, Bob Li');

    const stranger = await click(card.messageId, 'ou_carol', 'Approve');
    expect(stranger).toMatchObject({
      status: 200,
      toast: {
        type: 'error',
        content: 'You are not an approver of this request.',
      },
      updated: false,
    });
    expect((await read(approval.id, token)).status).toBe('pending');

    const approved = await click(card.messageId, 'ou_alice', 'Approve');
    expect(approved).toMatchObject({
      status: 200,
      toast: {
        type: 'success',
        content: 'Approved: your approval is recorded.',
      },
      updated: true,
    });
    // Recorded before the answer went back to Feishu.
    const decided = await read(approval.id, token);
    expect(decided).toMatchObject({
      status: 'approved',
      decidedBy: 'Alice Chen',
      decidedById: 'ou_alice',
    });
    const instance = await sandboxControl(
      stack.sandbox,
      'GET',
      `/feishu/instances/${encodeURIComponent(approval.imInstanceId ?? decided.imInstanceId!)}`,
    );
    expect(instance.status).toBe('APPROVED');
    const updated = await cardNow(card.messageId);
    expect(updated.text).toMatch(
      /Approved by Alice Chen at \d{4}-\d\d-\d\d \d\d:\d\d UTC/,
    );
    expect(updated.text).not.toContain('[Approve]');
  });

  it('refuses the requester’s own click: a run of alice-chen, who is ou_alice in Feishu by her catalog email', async () => {
    await catalogUser(backend(), 'alice');
    const { approval, token, card } = await opened({}, { actor: 'alice-chen' });
    expect(approval.requester).toMatchObject({ name: 'Alice Chen' });
    const own = await click(card.messageId, 'ou_alice', 'Approve');
    expect(own.toast).toEqual({
      type: 'error',
      content: 'You asked for this request: you cannot decide it.',
    });
    expect((await read(approval.id, token)).status).toBe('pending');
  });

  it('rejects from the card with the comment typed on it, and the card says so for everyone', async () => {
    const { approval, token, card } = await opened();
    expect(card.text).toContain('[comment …]');
    const rejected = await click(
      card.messageId,
      'ou_bob',
      'Reject',
      'not today',
    );
    expect(rejected.toast).toEqual({
      type: 'success',
      content: 'Rejected: your rejection is recorded.',
    });
    expect((await read(approval.id, token)).status).toBe('rejected');
    expect((await cardNow(card.messageId)).text).toMatch(
      /Rejected by Bob Li at /,
    );
  });

  it('updates the card when the request is cancelled, and when it expires', async () => {
    const cancelled = await opened();
    const answer = await api(
      backend(),
      'POST',
      `/approvals/${cancelled.approval.id}/cancel`,
      { token: cancelled.token, body: { reason: 'job canceled' } },
    );
    expect(answer.status).toBe(200);
    await eventually(
      () => cardNow(cancelled.card.messageId),
      card => /Canceled at /.test(card.text),
    );
    expect((await cardNow(cancelled.card.messageId)).text).not.toContain(
      '[Approve]',
    );

    const expiring = await opened({ timeout: '2s' });
    const expired = await eventually(
      () => cardNow(expiring.card.messageId),
      card => /Expired at .* without a decision/.test(card.text),
      20_000,
    );
    expect(expired.text).toMatch(/Expired at .* without a decision/);
    // A click on the expired card's last state is told, and changes nothing.
    expect((await read(expiring.approval.id, expiring.token)).status).toBe(
      'expired',
    );
  });

  it('rejects a forged card callback and changes nothing', async () => {
    const { approval, token } = await opened();
    const forged = await fetch(
      `${backend().api}/callbacks/feishu/${FEISHU.integrationId}/cards`,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-lark-request-timestamp': String(Math.floor(Date.now() / 1000)),
          'x-lark-request-nonce': 'n',
          'x-lark-signature': '0'.repeat(64),
        },
        body: JSON.stringify({ encrypt: 'AAAA' }),
      },
    );
    expect([400, 401]).toContain(forged.status);
    expect((await read(approval.id, token)).status).toBe('pending');
  });
});

describe('reminders in the Feishu group chat of a request’s card (real backend, SQLite, the Feishu sandbox)', () => {
  let stack: Stack;
  const backend = () => stack.backends[0];

  beforeAll(async () => {
    stack = await startCardedStack(FEISHU, CHAT.chatId, {
      approvers: ['ou_alice', 'ou_bob'],
      approverMode: 'any',
      remindAfter: '2s',
    });
    await sandboxControl(stack.sandbox, 'POST', '/feishu/chats', CHAT);
  });
  afterAll(() => stack?.stop());

  const chat = () => messagesOf(stack);

  it('mentions those the request waits on in the chat, beside their direct messages, until it is decided', async () => {
    const { approval, token } = await openApproval(stack, backend(), {
      template: 'carded',
      variables: { service: '<at user_id="all"></at>', reason: 'release' },
    });
    const reminders = () =>
      chat().then(messages =>
        messages.filter(message => message.text.startsWith('@')),
      );
    const [first] = await eventually(
      reminders,
      found => found.length > 0,
      20_000,
    );
    // The mentions are the app's own; the title's markup arrives as text.
    expect(first!.text).toMatch(
      /^@Alice Chen@Bob Li Reminder: "Deploy <at user_id="all"><\/at> from acme\/api" has waited \d+s/,
    );
    const decided = await sandboxControl(
      stack.sandbox,
      'POST',
      `/feishu/instances/${encodeURIComponent(approval.imInstanceId!)}/approve`,
      { openId: 'ou_alice' },
    );
    expect(decided.status).toBe('APPROVED');
    await eventually(
      async () => (await getWithTimeline(backend(), approval.id, token)).body,
      body => (body as ApprovalWithTimeline).status === 'approved',
    );
    const after = (await reminders()).length;
    await new Promise(resolve => setTimeout(resolve, 4_000));
    expect((await reminders()).length).toBe(after);
    const { body } = await getWithTimeline(backend(), approval.id, token);
    expect(
      (body as ApprovalWithTimeline).timeline.find(e => e.type === 'reminded')
        ?.message,
    ).toMatch(
      /^Reminder 1 sent to ou_alice, ou_bob, and in group chat oc_release$/,
    );
  });
});
