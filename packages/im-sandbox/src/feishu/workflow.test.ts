import { FORM_JSON, control, feishu, useTestSandbox } from '../testing/sandbox';

// Feishu's rules as seen through its API: who decides, when an instance ends, what fails and how.

describe('the Feishu approval workflow', () => {
  const t = useTestSandbox();

  const read = async (code: string) =>
    (await t.api.get(`/approval/v4/instances/${code}`)).body.data;
  const decide = (
    code: string,
    decision: 'approve' | 'reject',
    body: object = {},
  ) => control(t.sandbox).post(`/feishu/instances/${code}/${decision}`, body);
  const taskStatuses = (data: {
    task_list: Array<{ open_id: string; status: string }>;
  }) =>
    Object.fromEntries(data.task_list.map(task => [task.open_id, task.status]));

  /** CHANGE: Lead (OR, alice) then Reviewers (AND, bob and carol). */
  const createChange = () =>
    t.api.createInstance({
      approval_code: 'CHANGE',
      form: JSON.stringify([
        { id: 'widget_service', type: 'input', value: 'billing' },
      ]),
      node_approver_open_id_list: [
        { key: 'lead', value: ['ou_alice'] },
        { key: 'node_reviewers', value: ['ou_bob'] },
      ],
      node_approver_user_id_list: [{ key: 'reviewers', value: ['u_carol'] }],
    });

  describe('decisions', () => {
    it('approves an OR node with one approval and closes the other tasks', async () => {
      const code = await t.api.createInstance();

      const after = await decide(code, 'approve', {
        openId: 'ou_bob',
        comment: 'lgtm',
      });

      expect(after.status).toBe(200);
      expect(after.body).toMatchObject({
        instanceCode: code,
        status: 'APPROVED',
      });
      const data = await read(code);
      expect(data.status).toBe('APPROVED');
      expect(Number(data.end_time)).toBeGreaterThan(0);
      expect(taskStatuses(data)).toEqual({
        ou_alice: 'DONE',
        ou_bob: 'APPROVED',
      });
      expect(data.timeline[1]).toMatchObject({
        type: 'PASS',
        open_id: 'ou_bob',
        user_id: 'u_bob',
        comment: 'lgtm',
        node_key: 'node_approvers',
      });
    });

    it('walks the nodes in order and needs every approval of an AND node', async () => {
      const code = await createChange();
      // Reviewers get tasks only once the lead has approved, as on Feishu.
      expect(taskStatuses(await read(code))).toEqual({ ou_alice: 'PENDING' });

      await decide(code, 'approve');
      expect(taskStatuses(await read(code))).toEqual({
        ou_alice: 'APPROVED',
        ou_bob: 'PENDING',
        ou_carol: 'PENDING',
      });

      await decide(code, 'approve', { openId: 'ou_carol' });
      const halfway = await read(code);
      expect(halfway.status).toBe('PENDING');
      expect(taskStatuses(halfway)).toEqual({
        ou_alice: 'APPROVED',
        ou_bob: 'PENDING',
        ou_carol: 'APPROVED',
      });

      await decide(code, 'approve', { openId: 'ou_bob' });
      expect((await read(code)).status).toBe('APPROVED');
    });

    it('rejects the instance on any rejection', async () => {
      const code = await createChange();
      await decide(code, 'approve');

      const after = await decide(code, 'reject', {
        openId: 'ou_bob',
        comment: 'too risky',
      });

      expect(after.body.status).toBe('REJECTED');
      const data = await read(code);
      expect(taskStatuses(data)).toEqual({
        ou_alice: 'APPROVED',
        ou_bob: 'REJECTED',
        ou_carol: 'DONE',
      });
      expect(data.timeline.at(-1)).toMatchObject({
        type: 'REJECT',
        open_id: 'ou_bob',
        comment: 'too risky',
      });
    });

    it('refuses to decide a settled instance, for someone without a pending task, or an unknown instance', async () => {
      const code = await t.api.createInstance();

      const stranger = await decide(code, 'approve', { openId: 'ou_carol' });
      expect(stranger.status).toBe(409);
      expect(stranger.body.error).toContain('ou_carol has no pending task');

      await decide(code, 'reject');
      const again = await decide(code, 'approve');
      expect(again.status).toBe(409);
      expect(again.body.error).toContain('is REJECTED');

      expect((await decide('NO-SUCH-INSTANCE', 'approve')).status).toBe(404);
    });

    it('reads an instance by the uuid it was created with', async () => {
      const code = await t.api.createInstance({ uuid: 'deploy-9' });

      expect((await read('deploy-9')).instance_code).toBe(code);
    });
  });

  describe('create rules', () => {
    const create = (overrides: object) =>
      t.api.post('/approval/v4/instances', {
        approval_code: 'DEPLOY',
        open_id: 'ou_bot',
        form: FORM_JSON,
        node_approver_open_id_list: [{ key: 'approvers', value: ['ou_alice'] }],
        ...overrides,
      });

    it('title must be an @i18n@ key: refuses a plain title with 1390001', async () => {
      const answer = await create({ title: 'Deploy api' });

      expect(answer.status).toBe(400);
      expect(answer.body).toMatchObject({
        code: 1390001,
        msg: expect.stringContaining(
          'must be an i18n key starting with @i18n@',
        ),
      });
      expect((await control(t.sandbox).get('/feishu/instances')).body).toEqual(
        [],
      );
    });

    it('title must be an @i18n@ key: takes its text from the default locale of i18n_resources', async () => {
      const answer = await create({
        title: '@i18n@title',
        i18n_resources: [
          {
            locale: 'en-US',
            is_default: false,
            texts: [{ key: '@i18n@title', value: 'Deploy api' }],
          },
          {
            locale: 'zh-CN',
            is_default: true,
            texts: [{ key: '@i18n@title', value: '部署 api' }],
          },
        ],
      });
      expect(answer.body.code).toBe(0);
      expect(
        (
          await control(t.sandbox).get(
            `/feishu/instances/${answer.body.data.instance_code}`,
          )
        ).body.title,
      ).toBe('部署 api');

      const missing = await create({
        title: '@i18n@other',
        i18n_resources: [{ locale: 'zh-CN', is_default: true, texts: [] }],
      });
      expect(missing.body).toMatchObject({
        code: 1390001,
        msg: expect.stringContaining('has no text'),
      });
    });

    it('uuid: a repeated uuid fails with 60012 and creates nothing more', async () => {
      const first = await create({ uuid: 'run-1' });
      const again = await create({ uuid: 'run-1' });

      expect(again.status).toBe(400);
      expect(again.body).toMatchObject({
        code: 60012,
        msg: expect.stringContaining('uuid'),
      });
      expect(again.body.data).toBeUndefined();
      const instances = (await control(t.sandbox).get('/feishu/instances'))
        .body;
      expect(
        instances.map(
          (instance: { instanceCode: string }) => instance.instanceCode,
        ),
      ).toEqual([first.body.data.instance_code]);
    });

    it('approver_chosen_multi false: the node takes one approver, several are refused with 1390001', async () => {
      await control(t.sandbox).post('/feishu/approvals', {
        approvalCode: 'SOLO',
        name: 'Solo',
        form: [{ id: 'widget_service', name: 'Service', type: 'input' }],
        nodes: [
          {
            nodeId: 'node_one',
            customNodeId: 'one',
            name: 'Owner',
            type: 'OR',
            needApprover: true,
            approverChosenMulti: false,
          },
        ],
      });
      const definition = await t.api.get('/approval/v4/approvals/SOLO');
      expect(definition.body.data.node_list[0]).toMatchObject({
        custom_node_id: 'one',
        approver_chosen_multi: false,
      });
      const form = JSON.stringify([
        { id: 'widget_service', type: 'input', value: 'api' },
      ]);

      const several = await create({
        approval_code: 'SOLO',
        form,
        node_approver_open_id_list: [
          { key: 'one', value: ['ou_alice', 'ou_bob'] },
        ],
      });
      expect(several.body).toMatchObject({
        code: 1390001,
        msg: expect.stringContaining(
          'takes one approver (approver_chosen_multi is false), not 2',
        ),
      });

      const one = await create({
        approval_code: 'SOLO',
        form,
        node_approver_open_id_list: [{ key: 'one', value: ['ou_alice'] }],
      });
      expect(one.body.code).toBe(0);
    });
  });

  describe('rate limits', () => {
    it("are Feishu's by default: instance create and CC 100/min, instance read 1,000/min and 50/s, subscribe 100/min", async () => {
      expect(
        (await control(t.sandbox).get('/feishu/rate-limits')).body,
      ).toEqual({
        instanceCreatePerMinute: 100,
        instanceCcPerMinute: 100,
        instanceGetPerMinute: 1000,
        instanceGetPerSecond: 50,
        subscribePerMinute: 100,
      });
    });

    it('instance create over its per-minute limit: HTTP 400, code 99991400, nothing created', async () => {
      await control(t.sandbox).patch('/feishu/rate-limits', {
        instanceCreatePerMinute: 2,
      });
      await t.api.createInstance();
      await t.api.createInstance();

      const over = await t.api.post('/approval/v4/instances', {
        approval_code: 'DEPLOY',
        open_id: 'ou_bot',
        form: FORM_JSON,
        node_approver_open_id_list: [{ key: 'approvers', value: ['ou_alice'] }],
      });

      expect(over.status).toBe(400);
      expect(over.body).toMatchObject({
        code: 99991400,
        msg: 'request trigger frequency limit',
      });
      expect(
        (await control(t.sandbox).get('/feishu/instances')).body,
      ).toHaveLength(2);
      expect(
        (await control(t.sandbox).get('/feishu/stats')).body,
      ).toMatchObject({ instanceCreates: 2, rateLimited: 1 });
    });

    it('instance read over its per-second limit: 99991400 until the second has passed', async () => {
      const code = await t.api.createInstance();
      await control(t.sandbox).patch('/feishu/rate-limits', {
        instanceGetPerSecond: 3,
      });
      const codes = [];
      for (let i = 0; i < 4; i += 1)
        codes.push(
          (await t.api.get(`/approval/v4/instances/${code}`)).body.code,
        );
      expect(codes).toEqual([0, 0, 0, 99991400]);

      await new Promise(resolve => setTimeout(resolve, 1050));
      expect(
        (await t.api.get(`/approval/v4/instances/${code}`)).body.code,
      ).toBe(0);
    });

    it('a reset restores the documented limits', async () => {
      await control(t.sandbox).patch('/feishu/rate-limits', {
        instanceGetPerMinute: 5,
      });
      await control(t.sandbox).post('/reset');
      expect(
        (await control(t.sandbox).get('/feishu/rate-limits')).body
          .instanceGetPerMinute,
      ).toBe(1000);
      expect(
        (
          await control(t.sandbox).patch('/feishu/rate-limits', {
            instanceGetPerMinute: 0,
          })
        ).status,
      ).toBe(400);
    });
  });

  describe('answer faults', () => {
    it('lose reset: the instance is created, the caller gets no answer, and a read by uuid finds it', async () => {
      await control(t.sandbox).post('/feishu/answer-faults', {
        route: 'instance.create',
        lose: 'reset',
      });

      await expect(t.api.createInstance({ uuid: 'lost-1' })).rejects.toThrow();

      const instances = (await control(t.sandbox).get('/feishu/instances'))
        .body;
      expect(instances).toHaveLength(1);
      expect((await read('lost-1')).instance_code).toBe(
        instances[0].instanceCode,
      );
      // Only the next call was affected.
      expect(await t.api.createInstance({ uuid: 'lost-2' })).toEqual(
        expect.any(String),
      );
    });

    it('lose http500: the instance is created and the caller gets HTTP 500', async () => {
      await control(t.sandbox).post('/feishu/answer-faults', {
        route: 'instance.create',
        lose: 'http500',
      });

      const answer = await t.api.post('/approval/v4/instances', {
        approval_code: 'DEPLOY',
        open_id: 'ou_bot',
        form: FORM_JSON,
        node_approver_open_id_list: [{ key: 'approvers', value: ['ou_alice'] }],
        uuid: 'lost-3',
      });

      expect(answer.status).toBe(500);
      expect((await read('lost-3')).status).toBe('PENDING');
    });

    it('delayMs: the answer comes after the delay', async () => {
      const code = await t.api.createInstance();
      await control(t.sandbox).post('/feishu/answer-faults', {
        route: 'instance.get',
        delayMs: 300,
      });

      const started = Date.now();
      expect((await read(code)).instance_code).toBe(code);
      expect(Date.now() - started).toBeGreaterThanOrEqual(280);
    });

    it('refuses a fault that neither loses nor delays', async () => {
      expect(
        (
          await control(t.sandbox).post('/feishu/answer-faults', {
            route: 'instance.get',
          })
        ).status,
      ).toBe(400);
    });
  });

  describe('cancel', () => {
    const cancel = (body: object) =>
      t.api.post('/approval/v4/instances/cancel?user_id_type=open_id', body);

    it('cancels a pending instance for its initiator', async () => {
      const code = await t.api.createInstance();

      const answer = await cancel({
        approval_code: 'DEPLOY',
        instance_code: code,
        user_id: 'ou_bot',
      });

      expect(answer.body).toMatchObject({ code: 0 });
      const data = await read(code);
      expect(data.status).toBe('CANCELED');
      expect(data.timeline.at(-1)).toMatchObject({
        type: 'CANCEL',
        open_id: 'ou_bot',
      });
    });

    it('refuses when the approval does not allow revoking', async () => {
      const code = await t.api.createInstance({
        approval_code: 'LOCKED',
        form: JSON.stringify([
          { id: 'widget_service', type: 'input', value: 'x' },
        ]),
        node_approver_open_id_list: [
          { key: 'node_approvers', value: ['ou_alice'] },
        ],
      });

      const answer = await cancel({
        approval_code: 'LOCKED',
        instance_code: code,
        user_id: 'ou_bot',
      });

      expect(answer.status).toBe(400);
      expect(answer.body).toMatchObject({
        code: 1390001,
        msg: expect.stringContaining('does not allow revoking'),
      });
      expect((await read(code)).status).toBe('PENDING');
    });

    it('refuses someone other than the initiator, and a settled instance', async () => {
      const code = await t.api.createInstance();

      const stranger = await cancel({
        approval_code: 'DEPLOY',
        instance_code: code,
        user_id: 'ou_alice',
      });
      expect(stranger.body).toMatchObject({
        code: 1390001,
        msg: expect.stringContaining('not the initiator'),
      });

      await decide(code, 'approve');
      const settled = await cancel({
        approval_code: 'DEPLOY',
        instance_code: code,
        user_id: 'ou_bot',
      });
      expect(settled.body).toMatchObject({
        code: 1390001,
        msg: expect.stringContaining('is APPROVED'),
      });

      const unknown = await cancel({
        approval_code: 'DEPLOY',
        instance_code: 'NOPE',
        user_id: 'ou_bot',
      });
      expect(unknown.body.code).toBe(1390003);
    });
  });

  describe('transfer', () => {
    const transfer = (code: string, body: object) =>
      control(t.sandbox).post(`/feishu/instances/${code}/transfer`, body);

    it("hands a pending task to someone else: a TRANSFER entry names them, and their decision is the node's", async () => {
      const code = await t.api.createInstance();

      const answer = await transfer(code, {
        fromOpenId: 'ou_bob',
        toOpenId: 'ou_carol',
        comment: 'on leave',
      });

      expect(answer.status).toBe(200);
      const data = await read(code);
      expect(taskStatuses(data)).toMatchObject({
        ou_bob: 'TRANSFERRED',
        ou_carol: 'PENDING',
      });
      const entry = data.timeline.at(-1);
      expect(entry).toMatchObject({
        type: 'TRANSFER',
        open_id: 'ou_bob',
        comment: 'on leave',
        open_id_list: ['ou_carol'],
        user_id_list: ['u_carol'],
      });
      expect(JSON.parse(entry.ext)).toEqual({
        open_id_list: ['ou_carol'],
        user_id_list: ['u_carol'],
      });
      // bob no longer decides; carol does.
      expect((await decide(code, 'approve', { openId: 'ou_bob' })).status).toBe(
        409,
      );
      await decide(code, 'approve', { openId: 'ou_carol' });
      expect((await read(code)).status).toBe('APPROVED');
    });

    it.each([
      [{ fromOpenId: 'ou_carol', toOpenId: 'ou_bot' }, 409, 'no pending task'],
      [{ fromOpenId: 'ou_bob', toOpenId: 'ou_alice' }, 409, 'already has'],
      [{ fromOpenId: 'ou_bob', toOpenId: 'ou_nobody' }, 404, 'not a user'],
    ])(
      'refuses %j with %d, changing nothing',
      async (body, status, message) => {
        const code = await t.api.createInstance();
        const answer = await transfer(code, body);
        expect(answer.status).toBe(status);
        expect(JSON.stringify(answer.body)).toContain(message);
        expect(
          (await read(code)).timeline.map((e: { type: string }) => e.type),
        ).toEqual(['START']);
      },
    );
  });

  describe('added approvers', () => {
    const add = (code: string, body: object) =>
      control(t.sandbox).post(`/feishu/instances/${code}/add-approvers`, body);

    it('gives each added person a task of the node; an OR node is done with any one approval', async () => {
      const code = await t.api.createInstance();

      const answer = await add(code, {
        byOpenId: 'ou_alice',
        openIds: ['ou_carol'],
        comment: 'second opinion',
      });

      expect(answer.status).toBe(200);
      const data = await read(code);
      expect(taskStatuses(data)).toMatchObject({
        ou_alice: 'PENDING',
        ou_carol: 'PENDING',
      });
      expect(data.timeline.at(-1)).toMatchObject({
        type: 'ADD_APPROVER',
        open_id: 'ou_alice',
        open_id_list: ['ou_carol'],
        comment: 'second opinion',
      });
      await decide(code, 'approve', { openId: 'ou_carol' });
      expect((await read(code)).status).toBe('APPROVED');
    });

    it('an AND node then needs the added approvers too', async () => {
      const code = await createChange();
      await decide(code, 'approve', { openId: 'ou_alice' });
      await add(code, { byOpenId: 'ou_bob', openIds: ['ou_bot'] });
      await decide(code, 'approve', { openId: 'ou_bob' });
      await decide(code, 'approve', { openId: 'ou_carol' });
      expect((await read(code)).status).toBe('PENDING');
      await decide(code, 'approve', { openId: 'ou_bot' });
      expect((await read(code)).status).toBe('APPROVED');
    });

    it.each([
      [{ byOpenId: 'ou_carol', openIds: ['ou_bot'] }, 409, 'no pending task'],
      [{ byOpenId: 'ou_alice', openIds: ['ou_bob'] }, 409, 'already has'],
      [{ byOpenId: 'ou_alice', openIds: ['ou_nobody'] }, 404, 'not a user'],
      [{ byOpenId: 'ou_alice', openIds: [] }, 400, 'openIds'],
    ])(
      'refuses %j with %d, changing nothing',
      async (body, status, message) => {
        const code = await t.api.createInstance();
        const answer = await add(code, body);
        expect(answer.status).toBe(status);
        expect(JSON.stringify(answer.body)).toContain(message);
        expect(
          (await read(code)).timeline.map((e: { type: string }) => e.type),
        ).toEqual(['START']);
      },
    );
  });

  describe('CC', () => {
    const cc = (body: object, userIdType = 'open_id') =>
      t.api.post(`/approval/v4/instances/cc?user_id_type=${userIdType}`, body);

    it('tells the recipients in the timeline; they can read it and never decide it', async () => {
      const code = await t.api.createInstance();

      const answer = await cc({
        approval_code: 'DEPLOY',
        instance_code: code,
        user_id: 'ou_bot',
        cc_user_ids: ['ou_carol'],
      });

      expect(answer.body).toEqual({ code: 0, msg: 'success', data: {} });
      const data = await read(code);
      expect(data.timeline.at(-1)).toMatchObject({
        type: 'CC',
        open_id: 'ou_bot',
        cc_user_list: [
          {
            open_id: 'ou_carol',
            user_id: 'u_carol',
            cc_id: expect.any(String),
          },
        ],
      });
      expect(
        data.task_list.map((task: { open_id: string }) => task.open_id),
      ).not.toContain('ou_carol');
      const refused = await decide(code, 'approve', { openId: 'ou_carol' });
      expect(refused.status).toBe(409);
      expect((await read(code)).status).toBe('PENDING');
    });

    it('takes user_ids when user_id_type says so, and may be sent by an approver', async () => {
      const code = await t.api.createInstance();

      const answer = await cc(
        {
          approval_code: 'DEPLOY',
          instance_code: code,
          user_id: (await read(code)).task_list[0].user_id,
          cc_user_ids: ['u_carol'],
        },
        'user_id',
      );

      expect(answer.body.code).toBe(0);
      expect((await read(code)).timeline.at(-1).cc_user_list[0]).toMatchObject({
        open_id: 'ou_carol',
      });
    });

    it.each([
      [{ cc_user_ids: [] }, 'cc_user_ids'],
      [
        { cc_user_ids: ['ou_nobody'] },
        'cc_user_ids[0]: ou_nobody does not name a user',
      ],
      [{ user_id: 'ou_nobody' }, 'user_id ou_nobody does not name a user'],
      [{ approval_code: 'CHANGE' }, 'belongs to approval DEPLOY'],
    ])(
      'refuses %j with 1390001 naming %s, and tells nobody',
      async (change, message) => {
        const code = await t.api.createInstance();

        const answer = await cc({
          approval_code: 'DEPLOY',
          instance_code: code,
          user_id: 'ou_bot',
          cc_user_ids: ['ou_carol'],
          ...change,
        });

        expect(answer.status).toBe(400);
        expect(answer.body).toMatchObject({
          code: 1390001,
          msg: expect.stringContaining(message),
        });
        expect(
          (await read(code)).timeline.map(
            (entry: { type: string }) => entry.type,
          ),
        ).toEqual(['START']);
      },
    );

    it('answers 1390003 for an unknown instance and 99991400 over 100 a minute', async () => {
      const code = await t.api.createInstance();
      const body = {
        approval_code: 'DEPLOY',
        instance_code: code,
        user_id: 'ou_bot',
        cc_user_ids: ['ou_carol'],
      };
      expect((await cc({ ...body, instance_code: 'NOPE' })).body.code).toBe(
        1390003,
      );

      await control(t.sandbox).patch('/feishu/rate-limits', {
        instanceCcPerMinute: 2,
      });
      // The refused call counted too, as Feishu counts every call.
      expect((await cc(body)).body.code).toBe(0);
      const over = await cc(body);
      expect(over.status).toBe(400);
      expect(over.body.code).toBe(99991400);
    });
  });

  describe('create validation', () => {
    const create = (overrides: Record<string, unknown>) =>
      t.api.post('/approval/v4/instances', {
        approval_code: 'DEPLOY',
        open_id: 'ou_bot',
        form: FORM_JSON,
        node_approver_open_id_list: [{ key: 'approvers', value: ['ou_alice'] }],
        ...overrides,
      });
    const formOf = (entries: object[]) => JSON.stringify(entries);

    it.each([
      ['form is not a string', { form: [{ id: 'widget_service' }] }, 'form:'],
      ['form is not JSON', { form: '{not json' }, 'form is not valid JSON'],
      [
        'a widget entry has no id',
        { form: formOf([{ type: 'input', value: 'x' }]) },
        'form[0].id',
      ],
      [
        'a widget is unknown',
        { form: formOf([{ id: 'widget_nope', type: 'input', value: 'x' }]) },
        'widget widget_nope does not exist',
      ],
      [
        'a widget has the wrong type',
        {
          form: formOf([
            { id: 'widget_service', type: 'textarea', value: 'x' },
            { id: 'widget_reason', type: 'textarea', value: 'y' },
          ]),
        },
        'form[0].type',
      ],
      [
        'a widget has no value',
        { form: formOf([{ id: 'widget_service', type: 'input' }]) },
        'form[0].value',
      ],
      [
        'a required widget is missing',
        { form: formOf([{ id: 'widget_service', type: 'input', value: 'x' }]) },
        'widget_reason (Reason)',
      ],
      [
        'the initiator is missing',
        { open_id: undefined },
        'open_id: the initiator is required',
      ],
      [
        'the initiator is unknown',
        { open_id: 'ou_ghost' },
        'open_id ou_ghost does not name a user',
      ],
      [
        'a node key is unknown',
        { node_approver_open_id_list: [{ key: 'nope', value: ['ou_alice'] }] },
        'node_approver_open_id_list[0].key',
      ],
      [
        'an approver node gets nobody',
        { node_approver_open_id_list: [] },
        'node approvers (Approvers) needs at least one approver',
      ],
      [
        'an approver is unknown',
        {
          node_approver_open_id_list: [
            { key: 'approvers', value: ['ou_ghost'] },
          ],
        },
        'approver ou_ghost',
      ],
    ])(
      'answers 1390001 naming the problem when %s',
      async (_case, overrides, expected) => {
        const answer = await create(overrides);

        expect(answer.status).toBe(400);
        expect(answer.body.code).toBe(1390001);
        expect(answer.body.msg).toContain(expected);
      },
    );

    it('answers 1390002 for an unknown approval and creates nothing', async () => {
      const answer = await create({ approval_code: 'NOPE' });

      expect(answer.body.code).toBe(1390002);
      expect(
        (await control(t.sandbox).get('/feishu/stats')).body.instanceCreates,
      ).toBe(0);
    });

    it('shows a title given as an i18n key in its default locale', async () => {
      const code = await t.api.createInstance({
        title: '@i18n@title',
        i18n_resources: [
          {
            locale: 'en-US',
            is_default: true,
            texts: [{ key: '@i18n@title', value: 'Deploy payments v2' }],
          },
        ],
      });

      expect(
        (await control(t.sandbox).get(`/feishu/instances/${code}`)).body.title,
      ).toBe('Deploy payments v2');
    });
  });

  describe('tokens and faults', () => {
    it('hands out the same token while it is fresh, and a new one after tokens/expire', async () => {
      const again = await feishu(t.sandbox);
      expect(again.token).toBe(t.api.token);
      expect(t.api.token).toMatch(/^t-[0-9a-f]{40}$/);

      await control(t.sandbox).post('/feishu/tokens/expire');

      const expired = await t.api.get('/approval/v4/approvals/DEPLOY');
      expect(expired.status).toBe(400);
      expect(expired.body.code).toBe(99991663);
      const fresh = await feishu(t.sandbox);
      expect(fresh.token).not.toBe(t.api.token);
      expect((await fresh.get('/approval/v4/approvals/DEPLOY')).body.code).toBe(
        0,
      );
      expect(
        (await control(t.sandbox).get('/feishu/stats')).body.tokenRequests
          .cli_test_app,
      ).toBe(3);
    });

    it('tells a missing token from an invalid one', async () => {
      const missing = await fetch(
        `${t.sandbox.url}/open-apis/approval/v4/approvals/DEPLOY`,
      );
      expect(missing.status).toBe(400);
      expect((await missing.json()).code).toBe(99991661);

      const invalid = await fetch(
        `${t.sandbox.url}/open-apis/approval/v4/approvals/DEPLOY`,
        { headers: { authorization: 'Bearer t-forged' } },
      );
      expect((await invalid.json()).code).toBe(99991663);
    });

    it('answers token requests for an unknown app or a wrong secret with HTTP 200 and a code', async () => {
      const token = (body: object) =>
        fetch(
          `${t.sandbox.url}/open-apis/auth/v3/tenant_access_token/internal`,
          {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(body),
          },
        );

      const unknown = await token({ app_id: 'cli_nobody', app_secret: 'x' });
      expect(unknown.status).toBe(200);
      expect(await unknown.json()).toMatchObject({
        code: 10003,
        msg: 'invalid param',
      });
      const wrong = await token({
        app_id: 'cli_test_app',
        app_secret: 'wrong',
      });
      expect(await wrong.json()).toMatchObject({
        code: 10014,
        msg: 'app secret invalid',
      });
    });

    it('injects a fault into the next calls of a route, then recovers', async () => {
      const code = await t.api.createInstance();
      const injected = await control(t.sandbox).post('/feishu/faults', {
        route: 'instance.get',
        code: 99991400,
        times: 2,
      });
      expect(injected.status).toBe(201);

      const first = await t.api.get(`/approval/v4/instances/${code}`);
      const second = await t.api.get(`/approval/v4/instances/${code}`);
      const third = await t.api.get(`/approval/v4/instances/${code}`);

      expect([first.status, second.status, third.status]).toEqual([
        400, 400, 200,
      ]);
      expect(first.body).toMatchObject({
        code: 99991400,
        msg: 'request trigger frequency limit',
      });
      expect(third.body.data.instance_code).toBe(code);
      // Other routes are untouched.
      expect((await t.api.get('/approval/v4/approvals/DEPLOY')).body.code).toBe(
        0,
      );
    });

    it('injects a fault into the token endpoint with the given status and message', async () => {
      await control(t.sandbox).post('/feishu/faults', {
        route: 'token',
        code: 10001,
        msg: 'system busy',
        httpStatus: 500,
      });

      const answer = await fetch(
        `${t.sandbox.url}/open-apis/auth/v3/tenant_access_token/internal`,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            app_id: 'cli_test_app',
            app_secret: 'test-secret',
          }),
        },
      );

      expect(answer.status).toBe(500);
      expect(await answer.json()).toMatchObject({
        code: 10001,
        msg: 'system busy',
      });
      expect((await feishu(t.sandbox)).token).toMatch(/^t-/);
    });
  });
});
