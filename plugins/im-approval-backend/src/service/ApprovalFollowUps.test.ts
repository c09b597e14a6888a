import { ImApiError } from '@im-approval/plugin-im-approval-node';
import type { Caller } from '../auth/CallerResolver';
import { mockServices } from '@backstage/backend-test-utils';
import {
  ApprovalFollowUps,
  ESCALATION_LEASE_SECONDS,
} from './ApprovalFollowUps';
import { scriptedCore, template } from './__testUtils__/scriptedIm';

const caller: Caller = {
  kind: 'github',
  id: 'github:acme/api',
  context: { repository: 'acme/api', environment: 'production', runId: '1' },
};

const MINUTE = 60_000;
const at = (approval: { createdAt: string }, ms: number) =>
  new Date(Date.parse(approval.createdAt) + ms);

async function opened(overrides: Record<string, unknown>, key = 'run-1') {
  const core = await scriptedCore({
    templates: [template(overrides)],
  });
  const { approval } = await core.service.create(
    { template: 'deploy', idempotencyKey: key, variables: {} },
    caller,
  );
  return { core, approval };
}

const eventsOf = async (
  core: Awaited<ReturnType<typeof scriptedCore>>,
  id: string,
  type: string,
) =>
  (await core.store.timeline(id))
    .filter(event => event.type === type)
    .map(event => event.message);

describe('ApprovalFollowUps', () => {
  it('reminds the approvers with the request link at each interval, numbered, until it is decided', async () => {
    const { core, approval } = await opened({
      approvers: ['alice', 'bob'],
      remindAfter: '10m',
    });
    expect(approval.nextReminderAt).toBe(
      at(approval, 10 * MINUTE).toISOString(),
    );
    expect(await core.followUps.runDue(at(approval, 9 * MINUTE))).toEqual({
      reminded: 0,
      escalated: 0,
    });
    expect(await core.followUps.runDue(at(approval, 10 * MINUTE))).toEqual({
      reminded: 1,
      escalated: 0,
    });
    expect(core.im.messages).toEqual([
      {
        userIds: ['alice', 'bob'],
        text: 'Reminder: "Deploy acme/api" has waited 10m for your decision and expires in 50m. Requested by github:acme/api.',
        url: `https://im.example/${approval.imInstanceId}`,
      },
    ]);
    // A pass that runs late sends one reminder, not the ones it missed.
    await core.followUps.runDue(at(approval, 35 * MINUTE));
    expect(await eventsOf(core, approval.id, 'reminded')).toEqual([
      'Reminder 1 sent to alice, bob',
      'Reminder 2 sent to alice, bob',
    ]);

    await core.store.transition(
      approval.id,
      { status: 'approved' },
      { type: 'approved', source: 'callback' },
    );
    await core.followUps.runDue(at(approval, 50 * MINUTE));
    expect(core.im.messages).toHaveLength(2);
  });

  it('sends each due reminder once when two replicas run the same pass', async () => {
    const { core, approval } = await opened({ remindAfter: '10m' });
    const [first, second] = await Promise.all([
      core.followUps.runDue(at(approval, 10 * MINUTE)),
      core.followUps.runDue(at(approval, 10 * MINUTE)),
    ]);
    expect(first.reminded + second.reminded).toBe(1);
    expect(core.im.count('sendMessage')).toBe(1);
  });

  it('reminds only those a stage still waits on', async () => {
    const { core, approval } = await opened({
      approvers: undefined,
      stages: [
        { name: 'Leads', approvers: ['alice', 'bob'], rule: 'all' },
        { name: 'SRE', approvers: ['carol'], rule: 'any' },
      ],
      remindAfter: '10m',
    });
    const stages = approval.stages.map((stage, i) =>
      i === 0 ? { ...stage, approvedBy: ['Alice'], waitingOn: ['bob'] } : stage,
    );
    await core.store.updateStages(approval.id, stages, []);
    await core.followUps.runDue(at(approval, 10 * MINUTE));
    expect(core.im.messages.map(m => m.userIds)).toEqual([['bob']]);
  });

  it('notes a reminder the IM refused, and reminds again at the next interval', async () => {
    const { core, approval } = await opened({ remindAfter: '10m' });
    core.im.failNext(
      'sendMessage',
      new ImApiError('permission', 'the app has no bot'),
    );
    await core.followUps.runDue(at(approval, 10 * MINUTE));
    expect(await eventsOf(core, approval.id, 'im_error')).toEqual([
      'Reminder 1 not sent: the app has no bot',
    ]);
    await core.followUps.runDue(at(approval, 20 * MINUTE));
    expect(await eventsOf(core, approval.id, 'reminded')).toEqual([
      'Reminder 2 sent to alice',
    ]);
    expect((await core.store.get(approval.id))?.error).toBeNull();
  });

  it('reminds in the group chat of the request’s card too, mentioning those it waits on; a chat that refuses is said, the direct messages stand', async () => {
    const { core, approval } = await opened({
      approvers: ['alice', 'bob'],
      remindAfter: '10m',
      groupChat: 'oc_room',
    });
    // Without a posted card there is no chat to remind in.
    await core.followUps.runDue(at(approval, 10 * MINUTE));
    expect(core.im.chatReminders).toEqual([]);
    await core.cards.post((await core.store.get(approval.id))!);
    await core.followUps.runDue(at(approval, 20 * MINUTE));
    expect(core.im.chatReminders).toEqual([
      {
        chatId: 'oc_room',
        userIds: ['alice', 'bob'],
        text: expect.stringMatching(
          /^Reminder: "Deploy acme\/api" has waited 20m/,
        ),
      },
    ]);
    core.im.failNext(
      'remindInChat',
      new ImApiError('permission', 'the bot left the chat'),
    );
    await core.followUps.runDue(at(approval, 30 * MINUTE));
    expect(await eventsOf(core, approval.id, 'reminded')).toEqual([
      'Reminder 1 sent to alice, bob',
      'Reminder 2 sent to alice, bob, and in group chat oc_room',
      'Reminder 3 sent to alice, bob; not in group chat oc_room: the bot left the chat',
    ]);
    expect(core.im.messages).toHaveLength(3);
  });

  it('names an approver the IM no longer finds, and what to check, when a reminder cannot reach them', async () => {
    const { core, approval } = await opened({ remindAfter: '10m' });
    core.im.strangers.add('alice');
    await core.followUps.runDue(at(approval, 10 * MINUTE));
    expect(await eventsOf(core, approval.id, 'im_error')).toEqual([
      "Reminder 1 not sent: scripted no longer finds alice: check that each is still a member, inside the app's contact scope",
    ]);
    expect(core.im.count('sendMessage')).toBe(0);
  });

  it('adds the people escalated to as approvers where the IM lets the app, beside approvers any one of whom decides', async () => {
    const { core, approval } = await opened({
      approvers: ['alice'],
      approverMode: 'any',
      escalateAfter: '30m',
      escalateTo: ['carol'],
    });
    expect(approval).toMatchObject({
      escalateTo: ['carol'],
      escalatesAt: at(approval, 30 * MINUTE).toISOString(),
    });
    await core.followUps.runDue(at(approval, 30 * MINUTE));
    expect(core.im.calls.filter(c => c.op === 'addApprovers')).toEqual([
      {
        op: 'addApprovers',
        arg: { instanceId: approval.imInstanceId, approverIds: ['carol'] },
      },
    ]);
    expect(await core.store.get(approval.id)).toMatchObject({
      approvers: ['alice', 'carol'],
      escalatesAt: null,
    });
    expect(await eventsOf(core, approval.id, 'escalated')).toEqual([
      'No decision after 30m: carol added as approvers of the scripted request, beside those it waits on',
    ]);
    await core.followUps.runDue(at(approval, 59 * MINUTE));
    expect(core.im.count('addApprovers')).toBe(1);
  });

  it('tells its listener of the approvers an escalation added, so pages and cards follow', async () => {
    const { core, approval } = await opened({
      approverMode: 'any',
      escalateAfter: '30m',
      escalateTo: ['carol'],
    });
    const heard: string[][] = [];
    const followUps = new ApprovalFollowUps({
      store: core.store,
      transitions: core.transitions,
      settings: core.settings,
      logger: mockServices.logger.mock(),
      onApproversAdded: widened => heard.push(widened.approvers),
    });
    await followUps.runDue(at(approval, 30 * MINUTE));
    expect(heard).toEqual([['alice', 'carol']]);
  });

  it.each([
    [
      'all approvers must approve',
      { approverMode: 'all', noAdding: false },
      'all its approvers must approve: one more would not make it pass sooner',
    ],
    [
      'the IM lets no app add approvers',
      { approverMode: 'any', noAdding: true },
      'scripted lets no app add approvers to a request',
    ],
  ])(
    'tells the people escalated to by a message with the Backstage page when %s',
    async (_, { noAdding, ...overrides }, why) => {
      const { core, approval } = await opened({
        ...overrides,
        escalateAfter: '30m',
        escalateTo: ['carol'],
      });
      if (noAdding) core.im.addApprovers = undefined;
      await core.followUps.runDue(at(approval, 30 * MINUTE));
      expect(core.im.count('addApprovers')).toBe(0);
      expect(core.im.messages).toEqual([
        {
          userIds: ['carol'],
          text: 'Escalated to you: "Deploy acme/api" has waited 30m without a decision and expires in 30m. Decide on its page in Backstage.',
          url: `https://backstage.example/im-approval/approvals/${approval.id}`,
        },
      ]);
      expect(await eventsOf(core, approval.id, 'escalated')).toEqual([
        `No decision after 30m: carol told by a direct message with a link to its page in Backstage (${why})`,
      ]);
      expect((await core.store.get(approval.id))?.approvers).toEqual(['alice']);
    },
  );

  it('tries an escalation the IM could not take for now again after its lease, and gives up on one it refuses', async () => {
    const { core, approval } = await opened({
      approverMode: 'any',
      escalateAfter: '30m',
      escalateTo: ['carol'],
    });
    core.im.failNext('addApprovers', new ImApiError('unavailable', 'busy'));
    const first = at(approval, 30 * MINUTE);
    await core.followUps.runDue(first);
    expect(await eventsOf(core, approval.id, 'im_error')).toEqual([
      'Escalation to carol failed, tried again in 5m: busy',
    ]);
    expect((await core.store.get(approval.id))?.escalatesAt).toBe(
      new Date(first.getTime() + ESCALATION_LEASE_SECONDS * 1000).toISOString(),
    );
    core.im.failNext(
      'addApprovers',
      new ImApiError('invalid_request', 'carol is not in the tenant'),
    );
    await core.followUps.runDue(at(approval, 36 * MINUTE));
    expect((await eventsOf(core, approval.id, 'im_error')).at(-1)).toBe(
      'Not escalated to carol: carol is not in the tenant',
    );
    expect((await core.store.get(approval.id))?.escalatesAt).toBeNull();
    await core.followUps.runDue(at(approval, 50 * MINUTE));
    expect(core.im.count('addApprovers')).toBe(2);
  });

  it('sets no timer that would fall after the deadline, and says so when the request opens', async () => {
    const { core, approval } = await opened({
      remindAfter: '2h',
      escalateAfter: '3h',
      escalateTo: ['carol'],
    });
    expect(approval).toMatchObject({ nextReminderAt: null, escalatesAt: null });
    const [created] = await core.store.timeline(approval.id);
    expect(created.message).toContain(
      'approvers not reminded: remindAfter 2h is not within the timeout 1h',
    );
    expect(created.message).toContain(
      'not escalated: escalateAfter 3h is not within the timeout 1h',
    );
  });
});
