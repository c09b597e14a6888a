import { decideInSandbox, openApproval, waitFor } from './__testUtils__/flow';
import { feishuCallback, withUsers } from './__testUtils__/ims';
import {
  getWithTimeline,
  sandboxControl,
  startStack,
  type Stack,
} from './__testUtils__/stack';

// A Feishu task handed on (转交) or shared with added approvers (并加签) in the IM: the decision is
// whoever finally decided, and the approval's timeline says how the task reached them, from the
// instance's TRANSFER and ADD_APPROVER entries.
jest.setTimeout(120_000);

const CAROL = {
  openId: 'ou_carol',
  name: 'Carol Wang',
  email: 'carol@example.com',
};

describe('hand-overs and added approvers in Feishu (real backend, Feishu sandbox over HTTP callbacks)', () => {
  let stack: Stack;
  const backend = () => stack.backends[0];

  beforeAll(async () => {
    stack = await startStack({
      database: 'sqlite',
      ims: [withUsers(feishuCallback, CAROL)],
    });
  });
  afterAll(() => stack?.stop());

  it('attributes the approval to whom the task was handed, and the timeline names the hand-over', async () => {
    const { approval, token } = await openApproval(stack, backend());
    await sandboxControl(
      stack.sandbox,
      'POST',
      `/feishu/instances/${encodeURIComponent(approval.imInstanceId!)}/transfer`,
      { fromOpenId: 'ou_bob', toOpenId: 'ou_carol', comment: 'on leave' },
    );
    const waiting = waitFor(backend(), approval.id, token);
    // Bob handed it on: he can no longer decide.
    await expect(
      decideInSandbox(stack, approval.imInstanceId!, 'approve', {
        openId: 'ou_bob',
      }),
    ).rejects.toThrow(/: 409 /);
    await decideInSandbox(stack, approval.imInstanceId!, 'approve', {
      openId: 'ou_carol',
      comment: 'covering for bob',
    });
    expect((await waiting).body).toMatchObject({
      status: 'approved',
      decidedBy: 'Carol Wang',
      decidedById: 'ou_carol',
      comment: 'covering for bob',
    });
    const { body } = await getWithTimeline(backend(), approval.id, token);
    expect(body.timeline.filter(e => e.type === 'approved')).toEqual([
      expect.objectContaining({
        actor: 'Carol Wang',
        message:
          'covering for bob; in feishu: "Bob Li" handed the task to "Carol Wang" ("on leave")',
      }),
    ]);
  });

  it('attributes the approval to an approver added in Feishu (并加签), and the timeline names who added them', async () => {
    const { approval, token } = await openApproval(stack, backend());
    await sandboxControl(
      stack.sandbox,
      'POST',
      `/feishu/instances/${encodeURIComponent(approval.imInstanceId!)}/add-approvers`,
      { byOpenId: 'ou_alice', openIds: ['ou_carol'] },
    );
    const waiting = waitFor(backend(), approval.id, token);
    await decideInSandbox(stack, approval.imInstanceId!, 'approve', {
      openId: 'ou_carol',
    });
    expect((await waiting).body).toMatchObject({
      status: 'approved',
      decidedBy: 'Carol Wang',
      decidedById: 'ou_carol',
    });
    const { body } = await getWithTimeline(backend(), approval.id, token);
    expect(body.timeline.find(e => e.type === 'approved')).toMatchObject({
      actor: 'Carol Wang',
      message: 'in feishu: "Alice Chen" added "Carol Wang" as approvers',
    });
  });
});
