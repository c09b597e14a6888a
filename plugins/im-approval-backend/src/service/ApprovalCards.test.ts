import { mockServices } from '@backstage/backend-test-utils';
import type { Entity } from '@backstage/catalog-model';
import { ImApiError } from '@im-approval/plugin-im-approval-node';
import type { Caller } from '../auth/CallerResolver';
import type { CommitCounter } from '../github/CommitCounter';
import { ApprovalCards } from './ApprovalCards';
import {
  INTEGRATION,
  scriptedCore,
  template,
} from './__testUtils__/scriptedIm';

const CHAT = 'oc_room';

/** alice, whose GitHub login asks in the requester tests. */
const ALICE: Entity = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'User',
  metadata: {
    name: 'alice',
    namespace: 'default',
    annotations: { 'github.com/user-login': 'alice-gh' },
  },
  spec: { profile: { email: 'alice@example.com' }, memberOf: [] },
};

const caller = (actor?: string): Caller => ({
  kind: 'github',
  id: 'github:acme/api',
  context: {
    repository: 'acme/api',
    environment: 'production',
    runId: '1',
    ...(actor && { actor }),
  },
});

async function carded(overrides: Record<string, unknown> = {}, actor?: string) {
  const core = await scriptedCore({
    templates: [
      template({
        approvers: ['alice@example.com', 'bob'],
        groupChat: CHAT,
        ...overrides,
      }),
    ],
    entities: [ALICE],
  });
  const { approval } = await core.service.create(
    { template: 'deploy', idempotencyKey: 'run-1', variables: {} },
    caller(actor),
  );
  await core.cards.post(approval);
  const click = (userId: string, action: 'approve' | 'reject' = 'approve') =>
    core.cards.click(INTEGRATION, {
      eventId: `e-${userId}-${action}`,
      approvalId: approval.id,
      action,
      userId,
      chatId: CHAT,
    });
  return { core, approval, click };
}

describe('ApprovalCards', () => {
  it('posts the card to the template’s group chat once, with the request’s context and who it waits on', async () => {
    const { core, approval } = await carded();
    await core.cards.post(approval);
    expect(core.im.count('postCard')).toBe(1);
    const [{ chatId, card }] = [...core.im.cards.values()];
    expect(chatId).toBe(CHAT);
    expect(card).toMatchObject({
      approvalId: approval.id,
      title: 'Deploy acme/api',
      state: 'pending',
      waitingOn: ['alice@example.com', 'bob'],
      instanceUrl: `https://im.example/${approval.imInstanceId}`,
      approvalUrl: `https://backstage.example/im-approval/approvals/${approval.id}`,
    });
    expect(card.context.map(line => line.kind)).toContain('repository');
  });

  it('shows every text from outside on one line, without control characters, so it cannot forge a line of the card', async () => {
    const core = await scriptedCore({
      templates: [
        template({
          approvers: ['bob'],
          groupChat: CHAT,
          title: 'Deploy ${vars.service}',
          fields: { Reason: '${vars.reason}' },
        }),
      ],
    });
    const { approval } = await core.service.create(
      {
        template: 'deploy',
        idempotencyKey: 'run-1',
        variables: {
          service: 'api\nApproved by mallory',
          reason: 'hotfix\u0000\r\nWaiting on: nobody',
        },
      },
      caller(),
    );
    await core.cards.post(approval);
    const [{ card }] = [...core.im.cards.values()];
    const texts = [
      card.title,
      ...card.context.map(line => line.value),
      ...card.fields.flatMap(field => [field.label, field.value]),
      ...card.waitingOn,
    ];
    // eslint-disable-next-line no-control-regex
    expect(texts.filter(text => /[\u0000-\u001f]/.test(text))).toEqual([]);
    expect(card.title).toBe('Deploy api Approved by mallory');
    expect(card.fields).toContainEqual({
      label: 'Reason',
      value: 'hotfix Waiting on: nobody',
    });
  });

  it('posts nothing for a template without a group chat', async () => {
    const { core } = await carded({ groupChat: undefined });
    expect(core.im.count('postCard')).toBe(0);
  });

  it('says on the timeline why a group chat of an IM without cards sees nothing', async () => {
    const core = await scriptedCore({
      templates: [template({ approvers: ['bob'], groupChat: CHAT })],
      withoutCards: true,
    });
    const { approval } = await core.service.create(
      { template: 'deploy', idempotencyKey: 'run-1', variables: {} },
      caller(),
    );
    await core.cards.post(approval);
    const [created] = await core.store.timeline(approval.id);
    expect(created.message).toContain(
      `no card in group chat ${CHAT}: cards in group chats are not built for scripted`,
    );
    expect(await core.store.cardOf(approval.id)).toBeUndefined();
  });

  it('decides an approver’s click on the IM request as them, records it before answering, and answers the card as it now is', async () => {
    const { core, approval, click } = await carded();
    const answer = await click('bob', 'reject');
    expect(core.im.calls.find(c => c.op === 'decideTask')?.arg).toEqual({
      instanceId: approval.imInstanceId,
      approverId: 'bob',
      action: 'reject',
      comment: undefined,
    });
    expect(answer.toast).toEqual({
      kind: 'success',
      text: 'Rejected: your rejection is recorded.',
    });
    expect(answer.card).toMatchObject({
      state: 'rejected',
      outcome: expect.stringMatching(
        /^Rejected by bob at \d{4}-\d\d-\d\d \d\d:\d\d UTC$/,
      ),
    });
    expect((await core.store.get(approval.id))?.status).toBe('rejected');
  });

  it('answers a click with a commit count only if already known: GitHub is not asked while the IM waits', async () => {
    const { core, approval } = await carded();
    const waited: boolean[] = [];
    const commits = {
      between: async (
        _approval: unknown,
        _previous: unknown,
        options?: { knownOnly?: boolean },
      ) => {
        waited.push(!options?.knownOnly);
        return undefined;
      },
    } as unknown as CommitCounter;
    const cards = new ApprovalCards({
      store: core.store,
      transitions: core.transitions,
      settings: core.settings,
      logger: mockServices.logger.mock(),
      commits,
    });
    await cards.click(INTEGRATION, {
      eventId: 'e-1',
      approvalId: approval.id,
      action: 'approve',
      userId: 'bob',
      chatId: CHAT,
    });
    expect(waited).toEqual([false]);
    await cards.update((await core.store.get(approval.id))!);
    expect(waited).toEqual([false, true]);
  });

  it('refuses anyone who is not an approver, deciding nothing', async () => {
    const { core, approval, click } = await carded();
    expect(await click('mallory')).toEqual({
      toast: {
        kind: 'error',
        text: 'You are not an approver of this request.',
      },
    });
    expect(core.im.count('decideTask')).toBe(0);
    expect((await core.store.get(approval.id))?.status).toBe('pending');
  });

  it('refuses the requester’s own click, even where the IM would let them', async () => {
    const { core, click } = await carded({}, 'alice-gh');
    expect((await click('alice@example.com')).toast).toEqual({
      kind: 'error',
      text: 'You asked for this request: you cannot decide it.',
    });
    expect(core.im.count('decideTask')).toBe(0);
  });

  it('tells a click on a decided request what became of it, with the card', async () => {
    const { core, click } = await carded();
    await click('bob');
    const again = await click('alice@example.com');
    expect(again.toast.kind).toBe('info');
    expect(again.toast.text).toMatch(
      /^This request is already approved: Approved by bob at /,
    );
    expect(again.card?.state).toBe('approved');
    expect(core.im.count('decideTask')).toBe(1);
  });

  it('refuses a click for an unknown approval or from another chat', async () => {
    const { core, approval } = await carded();
    const other = await core.cards.click(INTEGRATION, {
      eventId: 'e-1',
      approvalId: approval.id,
      action: 'approve',
      userId: 'bob',
      chatId: 'oc_elsewhere',
    });
    const unknown = await core.cards.click(INTEGRATION, {
      eventId: 'e-2',
      approvalId: '00000000-0000-4000-8000-000000000000',
      action: 'approve',
      userId: 'bob',
    });
    for (const answer of [other, unknown])
      expect(answer.toast).toEqual({
        kind: 'error',
        text: 'This card is not one of this chat’s approval requests.',
      });
    expect(core.im.count('decideTask')).toBe(0);
  });

  it('says to try again when the IM is busy, leaving the request pending', async () => {
    const { core, approval, click } = await carded();
    core.im.failNext('decideTask', new ImApiError('unavailable', 'busy'));
    expect((await click('bob')).toast).toEqual({
      kind: 'error',
      text: 'scripted is busy: try again in a moment.',
    });
    expect((await core.store.get(approval.id))?.status).toBe('pending');
  });

  it('decides the clicker’s own request in a stage that counts, and says the stage still waits', async () => {
    const { core, approval, click } = await carded({
      approvers: undefined,
      stages: [
        { approvers: ['alice@example.com', 'bob', 'carol'], atLeast: 2 },
      ],
    });
    const bobs = approval.stages[0].requests.find(r => r.approver === 'bob');
    const answer = await click('bob');
    expect(core.im.calls.find(c => c.op === 'decideTask')?.arg).toMatchObject({
      instanceId: bobs?.instanceId,
      approverId: 'bob',
    });
    expect(answer.toast).toEqual({
      kind: 'success',
      text: 'Your approval is recorded; the request still waits on others.',
    });
    expect((await core.store.get(approval.id))?.stages[0].approvedBy).toEqual([
      'bob',
    ]);
  });

  it('catches up what a restart lost: posts a card never posted, and updates one that shows an old status', async () => {
    const core = await scriptedCore({
      templates: [template({ approvers: ['bob'], groupChat: CHAT })],
    });
    const create = (key: string) =>
      core.service
        .create(
          { template: 'deploy', idempotencyKey: key, variables: {} },
          caller(),
        )
        .then(created => created.approval);
    // Opened, but the process stopped before either card was posted.
    const [first, second] = [await create('run-1'), await create('run-2')];
    expect(await core.cards.catchUp()).toBe(2);
    expect(core.im.count('postCard')).toBe(2);
    expect(await core.cards.catchUp()).toBe(0);

    // Decided, but the process stopped before the card was updated.
    await core.store.transition(
      first.id,
      { status: 'approved', decidedBy: { id: 'bob', name: 'Bob' } },
      { type: 'approved', source: 'callback' },
    );
    expect(await core.cards.catchUp()).toBe(1);
    const shown = core.im.calls
      .filter(call => call.op === 'updateCard')
      .map(
        call =>
          (call.arg as { card: { approvalId: string; state: string } }).card,
      );
    expect(shown).toEqual([
      expect.objectContaining({ approvalId: first.id, state: 'approved' }),
    ]);
    expect(await core.cards.catchUp()).toBe(0);
    expect((await core.store.cardOf(second.id))?.cardId).toBeDefined();
  });

  it('updates the posted card when the approval changes', async () => {
    const { core, approval } = await carded();
    await core.store.transition(
      approval.id,
      { status: 'canceled' },
      { type: 'canceled', source: 'api' },
    );
    await core.cards.update((await core.store.get(approval.id))!);
    const [{ card }] = [...core.im.cards.values()];
    expect(card).toMatchObject({
      state: 'canceled',
      outcome: expect.stringMatching(/^Canceled at /),
      waitingOn: [],
    });
  });
});
