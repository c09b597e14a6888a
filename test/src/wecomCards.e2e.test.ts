import {
  decideInSandbox,
  eventually,
  openApproval,
} from './__testUtils__/flow';
import { WECOM_APP, wecomCallback, type ImSetup } from './__testUtils__/ims';
import {
  api,
  getWithTimeline,
  sandboxControl,
  type Stack,
} from './__testUtils__/stack';
import { startCardedStack } from './__testUtils__/cards';

// A request's card in one of a WeCom app's group chats: a textcard linking to the request, saying
// that it is decided in WeCom (WeCom cannot let the app act on a task for the approver); WeCom
// cannot edit a message, so how the request ended is told in the chat, once.
jest.setTimeout(120_000);

const CHAT = {
  chatId: 'releaseroom',
  name: 'Release room',
  members: ['alice', 'bob'],
  agentId: WECOM_APP.agentId,
};
const WECOM: ImSetup = {
  ...wecomCallback,
  seed: { ...wecomCallback.seed, chats: [CHAT] },
};

interface ChatMessage {
  msgType: string;
  text: string;
}

describe('approval cards in a WeCom app group chat (real backend, SQLite, the WeCom sandbox)', () => {
  let stack: Stack;
  const backend = () => stack.backends[0];

  beforeAll(async () => {
    stack = await startCardedStack(WECOM, CHAT.chatId);
  });
  afterAll(() => stack?.stop());

  const chat = () =>
    sandboxControl<ChatMessage[]>(
      stack.sandbox,
      'GET',
      `/wecom/chats/${CHAT.chatId}/messages`,
    );
  const mentioning = async (text: string) =>
    (await chat()).filter(message => message.text.includes(text));
  const opened = async (variables: object = {}) => {
    const { approval, token } = await openApproval(stack, backend(), {
      template: 'carded',
      variables: { service: 'api', reason: 'release 1.2', ...variables },
    });
    const [card] = await eventually(
      () => mentioning(approval.imInstanceId!),
      found => found.length === 1,
    );
    return { approval, token, card: card! };
  };

  it('sends a textcard with the context that links to the WeCom request and says it is decided there, then tells the chat once how it ended', async () => {
    const { approval, token, card } = await opened({ service: '<b>api</b>' });
    expect(card.msgType).toBe('textcard');
    // Markup from people arrives as text.
    expect(card.text).toContain('Deploy <b>api</b> from acme/api');
    expect(card.text).toContain('Repository: acme/api');
    expect(card.text).toContain('Waiting on: Alice Chen, Bob Li');
    expect(card.text).toContain(
      'Approve or reject in WeCom: a group chat cannot decide. Open the request.',
    );
    expect(card.text).toContain(`/wecom/instances/${approval.imInstanceId}`);

    await decideInSandbox(
      stack,
      approval.imInstanceId!,
      'approve',
      { userId: 'alice', comment: 'ship it' },
      'wecom',
    );
    const told = await eventually(
      () => mentioning('Approved by Alice Chen'),
      found => found.length > 0,
    );
    expect(told).toHaveLength(1);
    expect(told[0]).toMatchObject({ msgType: 'text' });
    // As sent: WeCom's text takes <a> links, so people's markup goes escaped.
    expect(told[0]!.text).toMatch(
      /^Deploy &lt;b&gt;api&lt;\/b&gt; from acme\/api: Approved by Alice Chen at \d{4}-\d\d-\d\d \d\d:\d\d UTC\nComment: ship it$/,
    );
    const { body } = await getWithTimeline(backend(), approval.id, token);
    expect(body.status).toBe('approved');
  });

  it('tells the chat when the request is cancelled', async () => {
    const { approval, token } = await opened({ service: 'billing' });
    const answer = await api(
      backend(),
      'POST',
      `/approvals/${approval.id}/cancel`,
      {
        token,
        body: { reason: 'job canceled' },
      },
    );
    expect(answer.status).toBe(200);
    const told = await eventually(
      () => mentioning('Deploy billing from acme/api: Canceled at'),
      found => found.length > 0,
    );
    expect(told).toHaveLength(1);
  });
});
