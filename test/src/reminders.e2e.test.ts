import type { ApprovalWithTimeline } from '@im-approval/plugin-im-approval-common';
import {
  decideInSandbox,
  eventually,
  openApproval,
} from './__testUtils__/flow';
import {
  dingtalkCallback,
  feishuCallback,
  type Im,
  type ImSetup,
  wecomCallback,
} from './__testUtils__/ims';
import {
  getWithTimeline,
  sandboxControl,
  startStack,
  type DatabaseKind,
  type Stack,
} from './__testUtils__/stack';

// Reminders and escalation on a compressed clock: the server owns the timers (in the database),
// a scheduled pass sends what is due, and each reminder or escalation fires once, across a
// restart and across two replicas. Approvers are reminded by a direct message in their IM, with
// the request's link; escalation tells bob, whom no IM here lets the app add as an approver, with
// a link to the approval's page in Backstage.
jest.setTimeout(120_000);

/** Each IM's people: the approver reminded, the person escalated to. */
const PEOPLE: Record<Im, { alice: string; bob: string; deciding: object }> = {
  feishu: {
    alice: 'ou_alice',
    bob: 'ou_bob',
    deciding: { openId: 'ou_alice' },
  },
  dingtalk: { alice: 'alice', bob: 'bob', deciding: { userId: 'alice' } },
  wecom: { alice: 'alice', bob: 'bob', deciding: { userId: 'alice' } },
};

const remindingTemplate = (setup: ImSetup) => ({
  ...setup.templateConfig,
  name: `remind-${setup.im}`,
  integration: setup.integrationId,
  approvers: [PEOPLE[setup.im].alice],
  approverMode: 'all',
  remindAfter: '2s',
  escalateAfter: '3s',
  escalateTo: [PEOPLE[setup.im].bob],
});

/** What a person reads in each IM's view of a message: its text, and its links on lines of their own. */
const MESSAGE_TEXT: Record<Im, (message: Record<string, any>) => string> = {
  feishu: message => `${message.text}\n${message.links.join('\n')}`,
  dingtalk: message => String(message.msg.text.content),
  wecom: message => String(message.content),
};

/** The texts of the direct messages a person received from the app in the IM, oldest first. */
async function messagesTo(stack: Stack, im: Im, user: string) {
  const received = await sandboxControl<Array<Record<string, any>>>(
    stack.sandbox,
    'GET',
    `/${im}/messages?user=${encodeURIComponent(user)}`,
  );
  return received.map(MESSAGE_TEXT[im]);
}

const events = (approval: ApprovalWithTimeline, type: string) =>
  approval.timeline.filter(event => event.type === type);

describe('reminders and escalation in every IM (real backend, SQLite, the three sandboxes)', () => {
  let stack: Stack;
  const backend = () => stack.backends[0];
  const setups = [feishuCallback, dingtalkCallback, wecomCallback];

  beforeAll(async () => {
    stack = await startStack({
      database: 'sqlite',
      ims: setups,
      templates: [
        ...setups.map(remindingTemplate),
        // Any one approver decides: bob added beside alice makes it pass sooner.
        {
          ...remindingTemplate(feishuCallback),
          name: 'escalate-feishu',
          approverMode: 'any',
          remindAfter: undefined,
        },
      ],
    });
  });
  afterAll(() => stack?.stop());

  it.each(setups.map(setup => [setup.im, setup] as const))(
    '%s: the approver is reminded with the link until it is decided, escalation tells bob once, and nothing follows the decision',
    async (im, setup) => {
      const { approval, token } = await openApproval(stack, backend(), {
        template: `remind-${setup.im}`,
      });
      const read = async () =>
        (await getWithTimeline(backend(), approval.id, token)).body;
      expect(approval.nextReminderAt).not.toBeNull();
      expect(approval.escalateTo).toEqual([PEOPLE[im].bob]);

      const reminded = await eventually(
        read,
        a =>
          events(a, 'reminded').length >= 2 &&
          events(a, 'escalated').length === 1,
        20_000,
      );
      expect(events(reminded, 'reminded').map(e => e.message)).toEqual(
        expect.arrayContaining([
          `Reminder 1 sent to ${PEOPLE[im].alice}`,
          `Reminder 2 sent to ${PEOPLE[im].alice}`,
        ]),
      );
      expect(events(reminded, 'escalated')[0].message).toMatch(
        new RegExp(
          `^No decision after \\d+s: ${PEOPLE[im].bob} told by a direct message with a link to its page in Backstage`,
        ),
      );
      expect(reminded.escalatesAt).toBeNull();

      expect(reminded.imUrl).toMatch(/^http/);
      const toAlice = await messagesTo(stack, im, PEOPLE[im].alice);
      expect(toAlice.length).toBeGreaterThanOrEqual(2);
      for (const text of toAlice) {
        expect(text).toContain(`Reminder: "${reminded.title}" has waited`);
        expect(text).toContain(reminded.imUrl);
      }
      const toBob = await messagesTo(stack, im, PEOPLE[im].bob);
      expect(toBob).toHaveLength(1);
      expect(toBob[0]).toContain(`Escalated to you: "${reminded.title}"`);
      expect(toBob[0]).toContain(`/im-approval/approvals/${approval.id}`);

      await decideInSandbox(
        stack,
        reminded.imInstanceId!,
        'approve',
        PEOPLE[im].deciding,
        im,
      );
      const decided = await eventually(read, a => a.status === 'approved');
      expect(decided.status).toBe('approved');
      const sent = (await messagesTo(stack, im, PEOPLE[im].alice)).length;
      const remindedBefore = events(decided, 'reminded').length;
      await new Promise(r => setTimeout(r, 3_000));
      expect(await messagesTo(stack, im, PEOPLE[im].alice)).toHaveLength(sent);
      expect(events(await read(), 'reminded')).toHaveLength(remindedBefore);
    },
  );

  it('feishu: escalation adds bob beside alice in the Feishu request (add sign), and his approval decides it', async () => {
    const { approval, token } = await openApproval(stack, backend(), {
      template: 'escalate-feishu',
    });
    const read = async () =>
      (await getWithTimeline(backend(), approval.id, token)).body;
    const escalated = await eventually(
      read,
      a => events(a, 'escalated').length === 1,
      20_000,
    );
    expect(events(escalated, 'escalated')[0].message).toMatch(
      /^No decision after \d+s: ou_bob added as approvers of the feishu request, beside those it waits on$/,
    );
    expect(escalated.approvers).toEqual(['ou_alice', 'ou_bob']);
    expect(events(escalated, 'reminded')).toEqual([]);
    const inFeishu = await sandboxControl(
      stack.sandbox,
      'GET',
      `/feishu/instances/${encodeURIComponent(escalated.imInstanceId!)}`,
    );
    expect(JSON.stringify(inFeishu)).toContain('ou_bob');
    // Nobody was messaged: Feishu tells added approvers itself.
    expect(
      (await messagesTo(stack, 'feishu', 'ou_bob')).filter(text =>
        text.includes(approval.id),
      ),
    ).toEqual([]);

    await decideInSandbox(
      stack,
      escalated.imInstanceId!,
      'approve',
      { openId: 'ou_bob', comment: 'covering for alice' },
      'feishu',
    );
    const decided = await eventually(read, a => a.status === 'approved');
    expect(decided).toMatchObject({
      status: 'approved',
      decidedBy: 'Bob Li',
      decidedById: 'ou_bob',
      comment: 'covering for alice',
    });
  });

  it('a title that looks like markup, a mention or a link reaches each IM as the text it is', async () => {
    const title =
      '<b>Deploy</b> <at user_id="all"></at> & [x](https://evil.example)';
    const opened = await Promise.all(
      setups.map(async setup => {
        const { approval, token } = await openApproval(stack, backend(), {
          template: `remind-${setup.im}`,
          title,
        });
        return { im: setup.im, approval, token };
      }),
    );
    for (const { approval, token } of opened)
      await eventually(
        async () => (await getWithTimeline(backend(), approval.id, token)).body,
        a => events(a, 'reminded').length >= 1,
        20_000,
      );
    const received = await sandboxControl<Array<Record<string, any>>>(
      stack.sandbox,
      'GET',
      '/feishu/messages?user=ou_alice',
    );
    const feishu = received.find(m => m.text.includes('evil.example'))!;
    // Feishu: a text node, which Feishu never parses for mentions or links; the only link is the request's.
    expect(feishu.text).toContain(`"${title}"`);
    expect(feishu.links).not.toContainEqual(
      expect.stringContaining('evil.example'),
    );
    // DingTalk: a plain text work notice.
    const [dingtalk] = (await messagesTo(stack, 'dingtalk', 'alice')).filter(
      text => text.includes('evil.example'),
    );
    expect(dingtalk).toContain(`"${title}"`);
    // WeCom's text takes <a> links: the title is escaped, so nothing in it is a tag.
    const [wecom] = (await messagesTo(stack, 'wecom', 'alice')).filter(text =>
      text.includes('evil.example'),
    );
    expect(wecom).toContain(
      '"&lt;b&gt;Deploy&lt;/b&gt; &lt;at user_id="all"&gt;&lt;/at&gt; &amp; [x](https://evil.example)"',
    );
    expect(wecom).not.toMatch(/<(?!a href="http:\/\/127\.0\.0\.1|\/a>)/);
  });
});

describe.each<DatabaseKind>(['sqlite', 'postgres'])(
  'reminders are owned by the server (%s)',
  database => {
    let stack: Stack;
    const replicas = database === 'postgres' ? 2 : 1;

    beforeAll(async () => {
      stack = await startStack({
        database,
        replicas,
        templates: [remindingTemplate(feishuCallback)],
      });
    });
    afterAll(() => stack?.stop());

    it(`each reminder and the escalation fire once ${replicas > 1 ? 'with two replicas' : 'across a restart'}`, async () => {
      const [first] = stack.backends;
      const { approval, token } = await openApproval(stack, first, {
        template: 'remind-feishu',
      });
      const read = async () =>
        (await getWithTimeline(first, approval.id, token)).body;
      // The escalation is taken and settled before the restart, which an unsettled one would
      // outlive only by its lease.
      await eventually(
        read,
        a =>
          events(a, 'reminded').length >= 1 &&
          events(a, 'escalated').length === 1,
        20_000,
      );
      if (replicas === 1) await first.restart();
      const later = await eventually(
        read,
        a => events(a, 'reminded').length >= 4,
        30_000,
      );
      const numbers = events(later, 'reminded').map(e =>
        Number(/^Reminder (\d+) /.exec(e.message ?? '')?.[1]),
      );
      // Numbered in order, none twice: each was taken by one replica alone.
      expect(numbers).toEqual(numbers.map((_, i) => i + 1));
      expect(events(later, 'escalated')).toHaveLength(1);
      const toAlice = await messagesTo(stack, 'feishu', 'ou_alice');
      const toBob = await messagesTo(stack, 'feishu', 'ou_bob');
      // A message for every reminder recorded (the next may be on its way), one for the escalation.
      expect(toAlice.length).toBeGreaterThanOrEqual(numbers.length);
      expect(toAlice.length).toBeLessThanOrEqual(numbers.length + 1);
      expect(toBob).toHaveLength(1);
    });
  },
);
