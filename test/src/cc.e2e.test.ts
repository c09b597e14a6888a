import type { ApprovalWithTimeline } from '@im-approval/plugin-im-approval-common';
import {
  decideInSandbox,
  eventually,
  openApproval,
  waitFor,
} from './__testUtils__/flow';
import {
  dingtalkCallback,
  FEISHU_CAROL,
  feishuCallback,
  type Im,
  type ImSetup,
  templateForApi,
  wecomCallback,
  withUsers,
} from './__testUtils__/ims';
import {
  api,
  getWithTimeline,
  sandboxControl,
  STATIC_TOKEN,
  startStack,
  type Stack,
} from './__testUtils__/stack';

// CC recipients (抄送) in each IM, the native way: Feishu's instance CC after the create, DingTalk's
// ccList told at the start and the finish, WeCom's notify node. They see the request in the IM and
// cannot decide it; the catalog's sre group (bob and carol) is expanded as approvers are.
jest.setTimeout(120_000);

/** carol of the example catalog, in each IM that can reach her by her catalog email. */
const FEISHU = withUsers(feishuCallback, FEISHU_CAROL);
// DingTalk finds people by user id or mobile, never by email: carol cannot be told there.
const DINGTALK = dingtalkCallback;
const WECOM = withUsers(wecomCallback, {
  userId: 'carol',
  name: 'Carol Wang',
  email: 'carol@example.com',
});

const CC = ['group:default/sre'];
/** Each IM's template with alice alone deciding, the sre group told. */
const ccTemplate = (setup: ImSetup, approvers: string[]) => ({
  ...setup.templateConfig,
  name: `cc-${setup.im}`,
  integration: setup.integrationId,
  approvers,
  cc: CC,
});

describe('CC recipients in every IM (real backend, the three sandboxes, the example catalog)', () => {
  let stack: Stack;
  const backend = () => stack.backends[0];
  const instance = (im: Im, id: string) =>
    sandboxControl(
      stack.sandbox,
      'GET',
      `/${im}/instances/${encodeURIComponent(id)}`,
    );

  beforeAll(async () => {
    stack = await startStack({
      database: 'sqlite',
      ims: [FEISHU, DINGTALK, WECOM],
      templates: [
        ccTemplate(FEISHU, ['alice@example.com']),
        ccTemplate(DINGTALK, ['alice']),
        ccTemplate(WECOM, ['alice@example.com']),
      ],
    });
    // The catalog reads the example organisation after start-up: wait until sre lists its members.
    await eventually(
      async () => {
        const response = await fetch(
          `${backend().url}/api/catalog/entities/by-name/group/default/sre`,
          { headers: { authorization: `Bearer ${STATIC_TOKEN}` } },
        );
        return response.ok
          ? ((await response.json()) as { relations?: object[] })
          : {};
      },
      group =>
        (group.relations ?? []).filter(
          relation => (relation as { type: string }).type === 'hasMember',
        ).length === 2,
      60_000,
    );
  });
  afterAll(() => stack?.stop());

  /** Saves the IM's CC template under another name through the API, changed as given. */
  const saveTemplate = async (
    setup: ImSetup,
    name: string,
    changes: object = {},
  ) => {
    const saved = await api(backend(), 'POST', '/templates', {
      token: STATIC_TOKEN,
      body: {
        ...templateForApi(ccTemplate(setup, ['alice@example.com'])),
        name,
        ...changes,
      },
    });
    expect(saved.status).toBe(201);
  };

  /** Opens the IM's CC template and waits for its instance. */
  const open = async (im: Im) => {
    const { approval, token } = await openApproval(stack, backend(), {
      template: `cc-${im}`,
    });
    const opened = await eventually(
      async () => (await getWithTimeline(backend(), approval.id, token)).body,
      a => a.imInstanceId !== null,
    );
    return { approval: opened, token };
  };

  /** A CC recipient's decision is refused by the IM, and the approver's decides. */
  const expectOnlyApproversDecide = async (
    im: Im,
    approval: ApprovalWithTimeline,
    token: string,
    told: { openId?: string; userId?: string },
    approver: { openId?: string; userId?: string },
  ) => {
    await expect(
      decideInSandbox(stack, approval.imInstanceId!, 'approve', told, im),
    ).rejects.toThrow(/: 4\d\d /);
    expect(
      (await getWithTimeline(backend(), approval.id, token)).body.status,
    ).toBe('pending');
    await decideInSandbox(
      stack,
      approval.imInstanceId!,
      'approve',
      approver,
      im,
    );
    expect((await waitFor(backend(), approval.id, token)).body.status).toBe(
      'approved',
    );
  };

  it("Feishu: the group's members are CC'd on the instance by the initiator, listed on it and unable to decide", async () => {
    const { approval, token } = await open('feishu');
    expect(approval.cc).toEqual(['bob@example.com', 'carol@example.com']);
    expect(approval.approvers).toEqual(['alice@example.com']);
    expect(approval.timeline[0].message).toContain(
      'CC (told, cannot decide): bob@example.com, carol@example.com',
    );

    const inFeishu = await instance('feishu', approval.imInstanceId!);
    expect(inFeishu.cc).toEqual([
      { openId: 'ou_bob', name: 'Bob Li' },
      { openId: 'ou_carol', name: 'Carol Wang' },
    ]);
    expect(inFeishu.timeline.at(-1)).toMatchObject({
      type: 'CC',
      openId: 'ou_bot',
      cc: ['ou_bob', 'ou_carol'],
    });
    expect(inFeishu.approvers.map((a: { openId: string }) => a.openId)).toEqual(
      ['ou_alice'],
    );
    await expectOnlyApproversDecide(
      'feishu',
      approval,
      token,
      { openId: 'ou_carol' },
      { openId: 'ou_alice' },
    );
  });

  it('Feishu: a CC Feishu refuses leaves the request standing for its approvers, and its timeline says so', async () => {
    await sandboxControl(stack.sandbox, 'POST', '/feishu/faults', {
      route: 'instance.cc',
      code: 1390001,
      msg: 'param is invalid',
    });
    const { approval, token } = await open('feishu');
    const created = await eventually(
      async () => (await getWithTimeline(backend(), approval.id, token)).body,
      a => a.timeline.some(e => e.type === 'im_instance_created'),
    );
    expect(
      created.timeline.find(e => e.type === 'im_instance_created')!.message,
    ).toMatch(/; CC recipients were not told: .*param is invalid/);
    expect((await instance('feishu', approval.imInstanceId!)).cc).toEqual([]);
    await expectOnlyApproversDecide(
      'feishu',
      approval,
      token,
      { openId: 'ou_bob' },
      { openId: 'ou_alice' },
    );
  });

  it('DingTalk: ccList told at the start and the finish; a member DingTalk cannot reach is left out and named', async () => {
    const { approval, token } = await open('dingtalk');
    expect(approval.cc).toEqual(['bob']);
    expect(approval.timeline[0].message).toMatch(
      /CC \(told, cannot decide\): bob;.*CC: left out of group:default\/sre: user:default\/carol/,
    );
    const inDingtalk = await instance('dingtalk', approval.imInstanceId!);
    expect(inDingtalk).toMatchObject({
      cc: [{ userId: 'bob', name: 'Bob Li' }],
      ccPosition: 'START_FINISH',
    });
    await expectOnlyApproversDecide(
      'dingtalk',
      approval,
      token,
      { userId: 'bob' },
      { userId: 'alice' },
    );
  });

  it('WeCom: a notify node after the approver node, from a template saved through the API', async () => {
    await saveTemplate(WECOM, 'cc-wecom-api');
    const { approval: first, token } = await openApproval(stack, backend(), {
      template: 'cc-wecom-api',
    });
    const approval = await eventually(
      async () => (await getWithTimeline(backend(), first.id, token)).body,
      a => a.imInstanceId !== null,
    );
    expect(approval.cc).toEqual(['bob@example.com', 'carol@example.com']);
    expect(await instance('wecom', approval.imInstanceId!)).toMatchObject({
      cc: [
        { userId: 'bob', name: 'Bob Li' },
        { userId: 'carol', name: 'Carol Wang' },
      ],
    });
    await expectOnlyApproversDecide(
      'wecom',
      approval,
      token,
      { userId: 'carol' },
      { userId: 'alice' },
    );
  });

  it('refuses a request whose template CCs someone the catalog does not have, and opens nothing', async () => {
    // Saved (refs are checked when a request is opened, as approvers are); the request is refused.
    await saveTemplate(FEISHU, 'cc-nobody', { cc: ['user:default/nobody'] });
    await expect(
      openApproval(stack, backend(), { template: 'cc-nobody' }),
    ).rejects.toThrow(
      /create answered 400: .*template \\"cc-nobody\\" cc: .*user:default\/nobody is not in the catalog/,
    );
  });
});
