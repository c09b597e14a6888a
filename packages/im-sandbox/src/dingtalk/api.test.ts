import {
  DINGTALK_APP,
  DINGTALK_INSTANCE_REQUEST,
  dingtalk,
} from '../testing/dingtalk';
import { call, control, useTestSandbox } from '../testing/sandbox';

// DingTalk's new and old APIs: paths, fields, status values and error codes.

describe('the DingTalk APIs', () => {
  const t = useTestSandbox();

  it('issues one token per app for the new and the old API, and refuses wrong credentials', async () => {
    const first = await call(
      t.sandbox.url,
      'POST',
      '/v1.0/oauth2/accessToken',
      {
        body: {
          appKey: DINGTALK_APP.appKey,
          appSecret: DINGTALK_APP.appSecret,
        },
      },
    );
    expect(first.body).toEqual({
      accessToken: expect.any(String),
      expireIn: 7200,
    });
    const old = await call(
      t.sandbox.url,
      'GET',
      `/gettoken?appkey=${DINGTALK_APP.appKey}&appsecret=${DINGTALK_APP.appSecret}`,
    );
    expect(old.body).toMatchObject({
      errcode: 0,
      access_token: first.body.accessToken,
      expires_in: expect.any(Number),
    });

    const wrong = await call(
      t.sandbox.url,
      'POST',
      '/v1.0/oauth2/accessToken',
      { body: { appKey: DINGTALK_APP.appKey, appSecret: 'no' } },
    );
    expect(wrong.status).toBe(400);
    expect(wrong.body).toMatchObject({ code: 'invalidClientIdOrSecret' });
    const oldWrong = await call(
      t.sandbox.url,
      'GET',
      `/gettoken?appkey=${DINGTALK_APP.appKey}&appsecret=no`,
    );
    expect(oldWrong.body).toMatchObject({ errcode: 40089 });
    const stats = await control(t.sandbox).get('/dingtalk/stats');
    expect(stats.body.tokenRequests).toEqual({ [DINGTALK_APP.appKey]: 4 });
  });

  it('answers 401 InvalidAuthentication without a valid token, and 40014 on the old API', async () => {
    const missing = await call(
      t.sandbox.url,
      'GET',
      '/v1.0/workflow/forms/schemas/processCodes?processCode=PROC-DEPLOY',
    );
    expect(missing.status).toBe(401);
    expect(missing.body).toMatchObject({ code: 'InvalidAuthentication' });
    const api = await dingtalk(t.sandbox);
    await control(t.sandbox).post('/dingtalk/tokens/expire');
    expect(
      (
        await api.get(
          '/v1.0/workflow/forms/schemas/processCodes?processCode=PROC-DEPLOY',
        )
      ).status,
    ).toBe(401);
    const old = await call(
      t.sandbox.url,
      'POST',
      `/topapi/v2/user/getbymobile?access_token=${api.token}`,
      { body: { mobile: '13800000001' } },
    );
    expect(old.body).toMatchObject({ errcode: 40014 });
  });

  it('reads a form schema by processCode', async () => {
    const api = await dingtalk(t.sandbox);
    const schema = await api.get(
      '/v1.0/workflow/forms/schemas/processCodes?processCode=PROC-DEPLOY',
    );
    expect(schema.body.result.schemaContent.items).toEqual([
      {
        componentName: 'TextField',
        props: { id: 'TextField_service', label: 'Service', required: true },
      },
      {
        componentName: 'TextareaField',
        props: { id: 'TextareaField_reason', label: 'Reason', required: false },
      },
    ]);
    const unknown = await api.get(
      '/v1.0/workflow/forms/schemas/processCodes?processCode=NOPE',
    );
    expect(unknown.status).toBe(400);
    expect(unknown.body.code).toBe('processCodeNotExist');
  });

  it('runs an AND node then a NONE node; approved only when COMPLETED and agree, with the remarks', async () => {
    const api = await dingtalk(t.sandbox);
    const id = await api.createInstance({
      approvers: [
        { actionType: 'AND', userIds: ['alice', 'bob'] },
        { actionType: 'NONE', userIds: ['carol'] },
      ],
    });
    const read = async () =>
      (await api.get(`/v1.0/workflow/processInstances?processInstanceId=${id}`))
        .body.result;
    expect(await read()).toMatchObject({
      status: 'RUNNING',
      result: '',
      originatorUserId: 'bot',
    });

    await control(t.sandbox).post(`/dingtalk/instances/${id}/approve`, {
      userId: 'alice',
      comment: 'fine',
    });
    expect((await read()).status).toBe('RUNNING');
    await control(t.sandbox).post(`/dingtalk/instances/${id}/approve`, {
      userId: 'bob',
    });
    const waitingForCarol = await read();
    expect(
      waitingForCarol.tasks.map(
        (task: { userId: string; status: string; result: string }) =>
          `${task.userId} ${task.status} ${task.result}`,
      ),
    ).toEqual([
      'alice COMPLETED AGREE',
      'bob COMPLETED AGREE',
      'carol RUNNING NONE',
    ]);
    await control(t.sandbox).post(`/dingtalk/instances/${id}/approve`, {
      userId: 'carol',
      comment: 'ship it',
    });

    const done = await read();
    expect(done).toMatchObject({
      status: 'COMPLETED',
      result: 'agree',
      finishTime: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\dZ$/),
    });
    expect(
      done.operationRecords.map(
        ({ userId, type, result, remark }: Record<string, string>) => ({
          userId,
          type,
          result,
          remark,
        }),
      ),
    ).toEqual([
      {
        userId: 'bot',
        type: 'START_PROCESS_INSTANCE',
        result: 'NONE',
        remark: undefined,
      },
      {
        userId: 'alice',
        type: 'EXECUTE_TASK_NORMAL',
        result: 'AGREE',
        remark: 'fine',
      },
      {
        userId: 'bob',
        type: 'EXECUTE_TASK_NORMAL',
        result: 'AGREE',
        remark: undefined,
      },
      {
        userId: 'carol',
        type: 'EXECUTE_TASK_NORMAL',
        result: 'AGREE',
        remark: 'ship it',
      },
    ]);
  });

  it('reports a refusal as COMPLETED with result refuse, and a terminated instance as TERMINATED', async () => {
    const api = await dingtalk(t.sandbox);
    const refused = await api.createInstance();
    await control(t.sandbox).post(`/dingtalk/instances/${refused}/reject`, {
      userId: 'bob',
      comment: 'not today',
    });
    expect(
      (
        await api.get(
          `/v1.0/workflow/processInstances?processInstanceId=${refused}`,
        )
      ).body.result,
    ).toMatchObject({
      status: 'COMPLETED',
      result: 'refuse',
    });

    const terminated = await api.createInstance();
    const answer = await api.post('/v1.0/workflow/processInstances/terminate', {
      processInstanceId: terminated,
      isSystem: true,
      remark: 'run canceled',
    });
    expect(answer.body).toEqual({ success: true, result: true });
    expect(
      (
        await api.get(
          `/v1.0/workflow/processInstances?processInstanceId=${terminated}`,
        )
      ).body.result,
    ).toMatchObject({ status: 'TERMINATED', result: '' });
    const again = await api.post('/v1.0/workflow/processInstances/terminate', {
      processInstanceId: terminated,
      isSystem: true,
    });
    expect(again.status).toBe(400);
    expect(again.body.message).toMatch(/only a RUNNING instance/);
  });

  it('refuses bad instances with InvalidParameter naming what is wrong', async () => {
    const api = await dingtalk(t.sandbox);
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [
        { formComponentValues: [{ name: 'Servise', value: 'x' }] },
        /no component labelled "Servise"/,
      ],
      [
        { formComponentValues: [{ name: 'Reason', value: 'x' }] },
        /required component "Service"/,
      ],
      [
        { approvers: [{ actionType: 'NONE', userIds: ['alice', 'bob'] }] },
        /NONE takes exactly one user/,
      ],
      [
        { approvers: [{ actionType: 'OR', userIds: ['mallory'] }] },
        /mallory is not a user/,
      ],
      [{ approvers: [] }, /at least one approver node/],
      [
        { approvers: [{ actionType: 'XOR', userIds: ['alice'] }] },
        /approvers\[0\]\.actionType/,
      ],
    ];
    for (const [overrides, message] of cases) {
      const answer = await api.post('/v1.0/workflow/processInstances', {
        ...DINGTALK_INSTANCE_REQUEST,
        ...overrides,
      });
      expect({ status: answer.status, code: answer.body.code }).toEqual({
        status: 400,
        code: 'InvalidParameter',
      });
      expect(answer.body.message).toMatch(message);
    }
    expect((await control(t.sandbox).get('/dingtalk/instances')).body).toEqual(
      [],
    );
  });

  it('reads a user by userid on the old API, with 60121 for nobody and 40035 without a userid', async () => {
    const api = await dingtalk(t.sandbox);
    const read = (body: object) =>
      call(
        t.sandbox.url,
        'POST',
        `/topapi/v2/user/get?access_token=${api.token}`,
        { body },
      );
    expect((await read({ userid: 'alice' })).body).toEqual({
      errcode: 0,
      errmsg: 'ok',
      request_id: expect.any(String),
      result: { userid: 'alice', name: expect.any(String) },
    });
    expect((await read({ userid: 'nobody' })).body).toMatchObject({
      errcode: 60121,
    });
    expect((await read({})).body).toMatchObject({
      errcode: 40035,
      errmsg: expect.stringMatching(/userid/),
    });
  });

  it('finds users by mobile on the old API, with 60121 for nobody', async () => {
    const api = await dingtalk(t.sandbox);
    const found = await call(
      t.sandbox.url,
      'POST',
      `/topapi/v2/user/getbymobile?access_token=${api.token}`,
      { body: { mobile: '13800000001' } },
    );
    expect(found.body).toMatchObject({
      errcode: 0,
      result: { userid: 'alice' },
    });
    const missing = await call(
      t.sandbox.url,
      'POST',
      `/topapi/v2/user/getbymobile?access_token=${api.token}`,
      { body: { mobile: '13900000000' } },
    );
    for (const written of [
      '+8613800000001',
      '138 0000 0001',
      '138-0000-0001',
    ]) {
      const refused = await call(
        t.sandbox.url,
        'POST',
        `/topapi/v2/user/getbymobile?access_token=${api.token}`,
        { body: { mobile: written } },
      );
      expect(refused.body.errcode).toBe(60121);
    }
    expect(missing.body).toMatchObject({ errcode: 60121 });
  });

  it('answers injected faults in the new API shape', async () => {
    const api = await dingtalk(t.sandbox);
    await control(t.sandbox).post('/dingtalk/faults', {
      route: 'instance.create',
      code: 429,
      msg: 'Throttling',
      httpStatus: 429,
    });
    const throttled = await api.post(
      '/v1.0/workflow/processInstances',
      DINGTALK_INSTANCE_REQUEST,
    );
    expect(throttled.status).toBe(429);
    expect(throttled.body).toMatchObject({
      code: '429',
      message: 'Throttling',
    });
    expect(
      (
        await api.post(
          '/v1.0/workflow/processInstances',
          DINGTALK_INSTANCE_REQUEST,
        )
      ).status,
    ).toBe(200);
  });

  it('lists instance ids of a form by originator and a millisecond time window, 20 at most a page, and refuses seconds', async () => {
    const api = await dingtalk(t.sandbox);
    const since = Date.now() - 1000;
    const first = await api.createInstance();
    const second = await api.createInstance();
    const list = (body: object) =>
      api.post('/v1.0/workflow/processes/instanceIds/query', {
        processCode: 'PROC-DEPLOY',
        startTime: since,
        maxResults: 20,
        ...body,
      });
    expect((await list({ userIds: ['bot'] })).body.result).toEqual({
      list: [first, second],
    });
    expect((await list({ userIds: ['alice'] })).body.result).toEqual({
      list: [],
    });
    expect((await list({ maxResults: 1 })).body.result).toEqual({
      list: [first],
      nextToken: 1,
    });
    expect((await list({ maxResults: 1, nextToken: 1 })).body.result).toEqual({
      list: [second],
    });
    const seconds = await list({ startTime: Math.floor(since / 1000) });
    expect(seconds.status).toBe(400);
    expect(seconds.body.code).toBe('InvalidParameter');
    expect((await list({ maxResults: 21 })).status).toBe(400);
  });

  it("can make an instance and then lose the create's answer, as after a timeout", async () => {
    const api = await dingtalk(t.sandbox);
    await control(t.sandbox).post('/dingtalk/answer-faults', {
      route: 'instance.create',
      lose: 'http500',
    });
    const lost = await api.post(
      '/v1.0/workflow/processInstances',
      DINGTALK_INSTANCE_REQUEST,
    );
    expect(lost.status).toBe(500);
    expect(
      (await control(t.sandbox).get('/dingtalk/instances')).body,
    ).toHaveLength(1);
    expect(
      (
        await api.post(
          '/v1.0/workflow/processInstances',
          DINGTALK_INSTANCE_REQUEST,
        )
      ).status,
    ).toBe(200);
  });

  it('throttles the new API per app and API with HTTP 403 Forbidden.AccessDenied.QpsLimitForAppkeyAndApi, as DingTalk documents', async () => {
    const api = await dingtalk(t.sandbox);
    const id = await api.createInstance();
    const read = () =>
      api.get(`/v1.0/workflow/processInstances?processInstanceId=${id}`);
    await control(t.sandbox).post('/dingtalk/rate-limit', { qpsPerApi: 2 });
    const answers = [await read(), await read(), await read()];
    expect(answers.map(answer => answer.status)).toEqual([200, 200, 403]);
    expect(answers[2].body).toMatchObject({
      code: 'Forbidden.AccessDenied.QpsLimitForAppkeyAndApi',
    });
    // Another API keeps its own budget.
    expect(
      (
        await api.get(
          '/v1.0/workflow/forms/schemas/processCodes?processCode=PROC-DEPLOY',
        )
      ).status,
    ).toBe(200);
    expect(
      (await control(t.sandbox).get('/dingtalk/stats')).body.rateLimited,
    ).toBe(1);
    await control(t.sandbox).post('/dingtalk/rate-limit', { qpsPerApi: null });
    expect((await read()).status).toBe(200);
  });

  it("allows an app 20 calls a second of one API by default, the standard edition's limit", async () => {
    const api = await dingtalk(t.sandbox);
    const id = await api.createInstance();
    const answers = await Promise.all(
      Array.from({ length: 21 }, () =>
        api.get(`/v1.0/workflow/processInstances?processInstanceId=${id}`),
      ),
    );
    expect(answers.filter(answer => answer.status === 200)).toHaveLength(20);
    expect(answers.filter(answer => answer.status === 403)).toHaveLength(1);
  });
});
