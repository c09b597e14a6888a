import {
  decideInSandbox,
  eventually,
  openApproval,
  waitFor,
} from './__testUtils__/flow';
import { FEISHU_APP, feishuCallback } from './__testUtils__/ims';
import { sandboxControl, startStack, type Stack } from './__testUtils__/stack';

// What changes, as approvers read it: with the GitHub App installed on the repository, the compare
// range since the last approved request of the template and environment says how many commits it
// holds (the compare API, with an installation token for contents: read).
jest.setTimeout(60_000);

const HISTORY = ['1', '2', '3', '4', '5'].map(digit => digit.repeat(40));

const CHAT = {
  chatId: 'oc_release',
  name: 'Release room',
  members: ['ou_alice', 'ou_bob'],
  bots: [FEISHU_APP.appId],
};

describe('the commits a request brings (real backend, SQLite, the sandbox GitHub App)', () => {
  let stack: Stack;
  const backend = () => stack.backends[0];

  beforeAll(async () => {
    // The request's card shows its context as approvers read it.
    stack = await startStack({
      database: 'sqlite',
      githubApp: true,
      templates: [
        {
          ...feishuCallback.templateConfig,
          name: 'carded',
          integration: feishuCallback.integrationId,
          groupChat: CHAT.chatId,
        },
      ],
    });
    await sandboxControl(stack.sandbox, 'POST', '/feishu/chats', CHAT);
    await sandboxControl(
      stack.sandbox,
      'PUT',
      '/github/repos/acme/api/commits',
      {
        shas: HISTORY,
      },
    );
  });
  afterAll(() => stack?.stop());

  /** The Changes line of the approval's card, once it is posted. */
  const changesOf = async (approvalId: string) => {
    const card = await eventually(
      async () =>
        (
          await sandboxControl<Array<{ text: string; links: string[] }>>(
            stack.sandbox,
            'GET',
            `/feishu/chats/${CHAT.chatId}/messages`,
          )
        ).find(message =>
          message.links.some(link => link.includes(approvalId)),
        ),
      found => found !== undefined,
    );
    return card!.text.split('\n').find(line => line.startsWith('Changes:'));
  };
  const open = (sha: string) =>
    openApproval(stack, backend(), { template: 'carded' }, { sha });

  it('counts the commits since the last approved request, and tells none it cannot count', async () => {
    const first = await open(HISTORY[1]!);
    expect(await changesOf(first.approval.id)).toMatch(
      /^Changes: the first approved request of /,
    );
    const decided = waitFor(backend(), first.approval.id, first.token);
    await decideInSandbox(stack, first.approval.imInstanceId!, 'approve', {});
    expect((await decided).body.status).toBe('approved');

    const second = await open(HISTORY[4]!);
    expect(await changesOf(second.approval.id)).toBe(
      `Changes: 2222222...5555555 (3 commits) since the last approved request of carded to production`,
    );

    // A commit GitHub does not know: the range without a count.
    const unknown = 'f'.repeat(40);
    const third = await open(unknown);
    expect(await changesOf(third.approval.id)).toBe(
      `Changes: 2222222...fffffff since the last approved request of carded to production`,
    );
  });
});
