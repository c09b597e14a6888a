import type { ApprovalWithTimeline } from '@im-approval/plugin-im-approval-common';
import { eventually, openApproval } from './__testUtils__/flow';
import {
  DINGTALK_CARD_TEMPLATE,
  DINGTALK_STREAM_APP,
  dingtalkStream,
  type ImSetup,
} from './__testUtils__/ims';
import {
  api,
  getWithTimeline,
  sandboxControl,
  type Stack,
} from './__testUtils__/stack';
import { catalogUser, startCardedStack } from './__testUtils__/cards';

// A request's interactive card in a DingTalk group: delivered by the app's robot from the card
// template once the DingTalk request is open; a click reaches the backend over its Stream
// connection (the card callback topic) and is answered within DingTalk's 2 s; an approver's
// click executes their own task, so the DingTalk request agrees; anyone else is told so on their
// card alone; the card is updated for everyone when the request is decided, cancelled or expires.
jest.setTimeout(120_000);

const CHAT = {
  openConversationId: 'cidE2eReleaseRoom==',
  name: 'Release room',
  members: ['alice', 'bob', 'carol'],
  robots: [DINGTALK_STREAM_APP.appKey],
};
const DINGTALK: ImSetup = {
  ...dingtalkStream,
  seed: {
    ...dingtalkStream.seed,
    users: [
      ...(dingtalkStream.seed.users as object[]),
      { userId: 'carol', name: 'Carol Wang', mobile: '13800000003' },
    ],
    chats: [CHAT],
    cardTemplates: [DINGTALK_CARD_TEMPLATE],
  },
  integration: sandbox => ({
    ...dingtalkStream.integration(sandbox),
    cardTemplateId: DINGTALK_CARD_TEMPLATE.templateId,
  }),
};

interface SeenCard {
  outTrackId: string;
  text: string;
  buttons: string[];
}
interface ClickResult {
  answered: boolean;
  seen: string[];
  error?: string;
}

describe('approval cards in a DingTalk group (real backend over Stream, SQLite, the DingTalk sandbox)', () => {
  let stack: Stack;
  const backend = () => stack.backends[0];

  beforeAll(async () => {
    stack = await startCardedStack(DINGTALK, CHAT.openConversationId);
  });
  afterAll(() => stack?.stop());

  const cards = (user?: string) =>
    sandboxControl<SeenCard[]>(
      stack.sandbox,
      'GET',
      `/dingtalk/chats/${encodeURIComponent(CHAT.openConversationId)}/cards${user ? `?user=${user}` : ''}`,
    );
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
      async () => (await cards()).find(c => c.outTrackId.endsWith(approval.id)),
      found => found !== undefined,
    );
    return { approval, token, card: card! };
  };
  const cardNow = async (outTrackId: string, user?: string) =>
    (await cards(user)).find(c => c.outTrackId === outTrackId)!;
  const click = (
    outTrackId: string,
    userId: string,
    button: string,
    input?: string,
  ) =>
    sandboxControl<ClickResult>(
      stack.sandbox,
      'POST',
      `/dingtalk/chats/${encodeURIComponent(CHAT.openConversationId)}/cards/${outTrackId}/click`,
      { userId, button, ...(input && { input }) },
    );
  const read = async (id: string, token: string) =>
    (await getWithTimeline(backend(), id, token)).body as ApprovalWithTimeline;
  const instance = (id: string) =>
    sandboxControl<{ status: string; result: string }>(
      stack.sandbox,
      'GET',
      `/dingtalk/instances/${encodeURIComponent(id)}`,
    );

  it('delivers the card with the context and buttons, refuses a member who is not an approver on their card alone, and executes an approver’s task', async () => {
    const { approval, token, card } = await opened();
    expect(card.text).toContain('Deploy api from acme/api');
    expect(card.text).toContain('Repository: acme/api');
    expect(card.text).toContain('Waiting on: Alice Chen, Bob Li');
    expect(card.buttons).toEqual(['Approve', 'Reject']);

    const stranger = await click(card.outTrackId, 'carol', 'Approve');
    expect(stranger.answered).toBe(true);
    expect(stranger.error).toBeUndefined();
    expect(stranger.seen).toContain('You are not an approver of this request.');
    // Only carol is told; the card is unchanged for the others.
    expect((await cardNow(card.outTrackId, 'alice')).text).not.toContain(
      'You are not an approver',
    );
    expect((await read(approval.id, token)).status).toBe('pending');

    const approved = await click(card.outTrackId, 'alice', 'Approve');
    expect(approved.seen).toContain('Approved: your approval is recorded.');
    // Recorded before the answer went back to DingTalk.
    const decided = await read(approval.id, token);
    expect(decided).toMatchObject({
      status: 'approved',
      decidedBy: 'Alice Chen',
      decidedById: 'alice',
    });
    expect(await instance(decided.imInstanceId!)).toMatchObject({
      status: 'COMPLETED',
      result: 'agree',
    });
    const everyone = await cardNow(card.outTrackId, 'bob');
    expect(everyone.text).toMatch(
      /Approved by Alice Chen at \d{4}-\d\d-\d\d \d\d:\d\d UTC/,
    );
    expect(everyone.buttons).toEqual([]);
  });

  it('refuses the requester’s own click: a run of alice-chen, who is alice in DingTalk by the catalog', async () => {
    await catalogUser(backend(), 'alice');
    const { approval, token, card } = await opened({}, { actor: 'alice-chen' });
    expect(approval.requester).toMatchObject({ imUser: 'alice' });
    const own = await click(card.outTrackId, 'alice', 'Approve');
    expect(own.seen).toContain(
      'You asked for this request: you cannot decide it.',
    );
    expect((await read(approval.id, token)).status).toBe('pending');
  });

  it('rejects from the card with the comment typed on it, the DingTalk request refused with it as the remark', async () => {
    const { approval, token, card } = await opened();
    const rejected = await click(card.outTrackId, 'bob', 'Reject', 'not today');
    expect(rejected.seen).toContain('Rejected: your rejection is recorded.');
    const decided = await read(approval.id, token);
    expect(decided).toMatchObject({ status: 'rejected', comment: 'not today' });
    expect(await instance(decided.imInstanceId!)).toMatchObject({
      result: 'refuse',
    });
    expect((await cardNow(card.outTrackId)).text).toMatch(
      /Rejected by Bob Li at /,
    );
  });

  it('updates the card for everyone when the request is cancelled, and when it expires', async () => {
    const cancelled = await opened();
    const answer = await api(
      backend(),
      'POST',
      `/approvals/${cancelled.approval.id}/cancel`,
      { token: cancelled.token, body: { reason: 'job canceled' } },
    );
    expect(answer.status).toBe(200);
    const shown = await eventually(
      () => cardNow(cancelled.card.outTrackId),
      card => /Canceled at /.test(card.text),
    );
    expect(shown.buttons).toEqual([]);

    const expiring = await opened({ timeout: '2s' });
    const expired = await eventually(
      () => cardNow(expiring.card.outTrackId),
      card => /Expired at .* without a decision/.test(card.text),
      20_000,
    );
    expect(expired.buttons).toEqual([]);
    // The ended card has no buttons left to click: nothing changes.
    const late = await click(
      expiring.card.outTrackId,
      'alice',
      'Approve',
    ).catch((error: Error) => error);
    expect(late).toBeInstanceOf(Error);
    expect((await read(expiring.approval.id, expiring.token)).status).toBe(
      'expired',
    );
  });
});
