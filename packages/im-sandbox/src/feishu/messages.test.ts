import { control, useTestSandbox } from '../testing/sandbox';

// Feishu's message API as its reference states it: one recipient a call, content a JSON string of
// its msg_type's shape, a uuid that sends once an hour, 230xxx codes for what it refuses.

describe('Feishu bot messages (POST im/v1/messages)', () => {
  const t = useTestSandbox();
  const post = (
    to: string,
    content: object,
    extra: object = {},
    type = 'open_id',
  ) =>
    t.api.post(`/im/v1/messages?receive_id_type=${type}`, {
      receive_id: to,
      msg_type: 'post',
      content: JSON.stringify(content),
      ...extra,
    });
  const rich = (text: string, href?: string) => ({
    zh_cn: {
      content: [
        [{ tag: 'text', text }],
        ...(href ? [[{ tag: 'a', text: href, href }]] : []),
      ],
    },
  });
  const inbox = async (user: string) =>
    (await control(t.sandbox).get(`/feishu/messages?user=${user}`)).body;

  it('delivers rich text to the person, by open_id or email, and shows its text and links', async () => {
    const sent = await post(
      'ou_alice',
      rich('Reminder: <at user_id="all"></at>', 'https://x.example/i/1'),
    );
    expect(sent.body).toMatchObject({
      code: 0,
      data: { message_id: expect.stringMatching(/^om_/), msg_type: 'post' },
    });
    await post('bob@example.com', rich('hello'), {}, 'email');
    expect(await inbox('ou_alice')).toEqual([
      expect.objectContaining({
        openId: 'ou_alice',
        name: 'Alice Chen',
        // A text node is text: the mention-like markup is not a mention.
        text: 'Reminder: <at user_id="all"></at>\nhttps://x.example/i/1',
        links: ['https://x.example/i/1'],
      }),
    ]);
    expect(await inbox('bob@example.com')).toHaveLength(1);
  });

  it('sends a uuid at most once within the hour', async () => {
    const first = await post('ou_alice', rich('once'), { uuid: 'u-1' });
    const again = await post('ou_alice', rich('once'), { uuid: 'u-1' });
    expect(again.body.data.message_id).toBe(first.body.data.message_id);
    expect(await inbox('ou_alice')).toHaveLength(1);
  });

  it.each([
    ['an unknown person', () => post('ou_nobody', rich('x')), 230013],
    ['an id not of its type', () => post('alice', rich('x')), 230034],
    [
      'content that is not JSON',
      () =>
        t.api.post('/im/v1/messages?receive_id_type=open_id', {
          receive_id: 'ou_alice',
          msg_type: 'post',
          content: '{',
        }),
      230001,
    ],
    [
      'a post without a locale',
      () => post('ou_alice', { content: [] }),
      230001,
    ],
    [
      'a link that is not http(s)',
      () => post('ou_alice', rich('x', 'ftp://files.example/x')),
      230001,
    ],
    [
      'no receive_id_type',
      () =>
        t.api.post('/im/v1/messages', {
          receive_id: 'ou_alice',
          msg_type: 'text',
          content: '{"text":"x"}',
        }),
      230001,
    ],
    [
      'rich text over 30 KB',
      () => post('ou_alice', rich('x'.repeat(31 * 1024))),
      230025,
    ],
  ])('refuses %s with its code, delivering nothing', async (_, send, code) => {
    const answer = await send();
    expect(answer.status).toBe(400);
    expect(answer.body.code).toBe(code);
    expect(await inbox('ou_alice')).toEqual([]);
  });

  it('answers 230020 past five messages a second to one person', async () => {
    const answers = await Promise.all(
      Array.from({ length: 6 }, (_, i) => post('ou_alice', rich(`m${i}`))),
    );
    expect(answers.map(a => a.body.code).sort()).toEqual([
      0, 0, 0, 0, 0, 230020,
    ]);
    expect(await inbox('ou_alice')).toHaveLength(5);
  });
});

describe('Feishu add sign (POST approval/v4/instances/add_sign)', () => {
  const t = useTestSandbox();
  const read = async (code: string) =>
    (await t.api.get(`/approval/v4/instances/${code}`)).body.data;
  const pendingTask = async (code: string, openId: string) =>
    (await read(code)).task_list.find(
      (task: { open_id: string; status: string }) =>
        task.open_id === openId && task.status === 'PENDING',
    );
  const addSign = (body: object) =>
    t.api.post('/approval/v4/instances/add_sign', body);

  it('adds people by user_id beside the task’s approver: each gets a task of the node, and the timeline names them', async () => {
    const code = await t.api.createInstance({
      node_approver_open_id_list: [{ key: 'approvers', value: ['ou_alice'] }],
    });
    const task = await pendingTask(code, 'ou_alice');
    const answer = await addSign({
      approval_code: 'DEPLOY',
      instance_code: code,
      user_id: 'u_alice',
      task_id: task.id,
      comment: 'escalated',
      add_sign_user_ids: ['u_carol'],
      add_sign_type: 3,
    });
    expect(answer.body).toEqual({ code: 0, msg: 'success', data: {} });
    expect(await pendingTask(code, 'ou_carol')).toBeDefined();
    expect((await read(code)).timeline.at(-1)).toMatchObject({
      type: 'ADD_APPROVER',
      open_id: 'ou_alice',
      comment: 'escalated',
    });
  });

  it.each([
    ['another person’s task', { user_id: 'u_bob' }, 1390010],
    ['an unknown task', { task_id: '999999' }, 1390010],
    ['an unknown user to add', { add_sign_user_ids: ['u_nobody'] }, 1390004],
    [
      'an open_id where a user_id is asked',
      { add_sign_user_ids: ['ou_carol'] },
      1390004,
    ],
    ['before or after without approval_method', { add_sign_type: 1 }, 1390001],
    ['someone already asked', { add_sign_user_ids: ['u_bob'] }, 1390001],
    ['an unknown instance', { instance_code: 'nope' }, 1390003],
  ])('refuses %s with its code, changing nothing', async (_, change, code) => {
    const instance = await t.api.createInstance();
    const task = await pendingTask(instance, 'ou_alice');
    const before = await read(instance);
    const answer = await addSign({
      approval_code: 'DEPLOY',
      instance_code: instance,
      user_id: 'u_alice',
      task_id: task.id,
      add_sign_user_ids: ['u_carol'],
      add_sign_type: 3,
      ...change,
    });
    expect(answer.status).toBe(400);
    expect(answer.body.code).toBe(code);
    expect((await read(instance)).task_list).toEqual(before.task_list);
  });
});
