import { DINGTALK_APP, dingtalk } from '../testing/dingtalk';
import { control, useTestSandbox } from '../testing/sandbox';

// CC recipients, hand-overs (转交) and work notices, as DingTalk's APIs take and report them.

describe('the DingTalk approver side', () => {
  const t = useTestSandbox();

  it('keeps CC recipients on the instance, reports them as ccUserIds, and refuses someone not of the corp', async () => {
    const api = await dingtalk(t.sandbox);
    const id = await api.createInstance({
      ccList: ['carol'],
      ccPosition: 'START',
    });
    const read = await api.get(
      `/v1.0/workflow/processInstances?processInstanceId=${id}`,
    );
    expect(read.body.result.ccUserIds).toEqual(['carol']);
    const view = await control(t.sandbox).get(`/dingtalk/instances/${id}`);
    expect(view.body.cc).toEqual([{ userId: 'carol', name: 'Carol Wang' }]);

    const refused = await api.post('/v1.0/workflow/processInstances', {
      originatorUserId: 'bot',
      processCode: 'PROC-DEPLOY',
      formComponentValues: [{ name: 'Service', value: 'payments' }],
      approvers: [{ actionType: 'NONE', userIds: ['alice'] }],
      ccList: ['nobody'],
    });
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({
      code: 'InvalidParameter',
      message: expect.stringContaining('ccList'),
    });
  });

  it('settles an all-must-approve node by the task a redirect made, not the one handed on', async () => {
    const api = await dingtalk(t.sandbox);
    const id = await api.createInstance({
      approvers: [{ actionType: 'AND', userIds: ['alice', 'bob'] }],
    });
    await control(t.sandbox).post(`/dingtalk/instances/${id}/redirect`, {
      fromUserId: 'alice',
      toUserId: 'carol',
    });
    for (const userId of ['bob', 'carol'])
      expect(
        (
          await control(t.sandbox).post(`/dingtalk/instances/${id}/approve`, {
            userId,
          })
        ).status,
      ).toBe(200);
    const read = await api.get(
      `/v1.0/workflow/processInstances?processInstanceId=${id}`,
    );
    expect(read.body.result).toMatchObject({
      status: 'COMPLETED',
      result: 'agree',
    });
  });

  it('redirects a pending task: the old task reads REDIRECTED, the new approver decides', async () => {
    const api = await dingtalk(t.sandbox);
    const id = await api.createInstance({
      approvers: [{ actionType: 'NONE', userIds: ['alice'] }],
    });
    const redirected = await control(t.sandbox).post(
      `/dingtalk/instances/${id}/redirect`,
      { fromUserId: 'alice', toUserId: 'carol', remark: 'on leave' },
    );
    expect(redirected.status).toBe(200);
    const again = await control(t.sandbox).post(
      `/dingtalk/instances/${id}/redirect`,
      { fromUserId: 'alice', toUserId: 'bob' },
    );
    expect(again.status).toBe(409);

    const refusedOld = await control(t.sandbox).post(
      `/dingtalk/instances/${id}/approve`,
      { userId: 'alice' },
    );
    expect(refusedOld.status).toBe(409);
    await control(t.sandbox).post(`/dingtalk/instances/${id}/approve`, {
      userId: 'carol',
      comment: 'ok',
    });
    const read = await api.get(
      `/v1.0/workflow/processInstances?processInstanceId=${id}`,
    );
    expect(read.body.result).toMatchObject({
      status: 'COMPLETED',
      result: 'agree',
    });
    expect(read.body.result.tasks).toEqual([
      expect.objectContaining({ userId: 'alice', result: 'REDIRECTED' }),
      expect.objectContaining({ userId: 'carol', result: 'AGREE' }),
    ]);
    expect(
      read.body.result.operationRecords.map((r: { type: string }) => r.type),
    ).toEqual([
      'START_PROCESS_INSTANCE',
      'REDIRECT_TASK',
      'EXECUTE_TASK_NORMAL',
    ]);
  });

  it('adds approvers to a step (加签): each gets a running task, the record says who added and why', async () => {
    const api = await dingtalk(t.sandbox);
    const id = await api.createInstance();
    const append = (body: object) =>
      control(t.sandbox).post(`/dingtalk/instances/${id}/append`, body);
    expect(
      (await append({ byUserId: 'alice', userIds: ['mallory'] })).status,
    ).toBe(404);
    expect((await append({ byUserId: 'carol', userIds: ['bot'] })).status).toBe(
      409,
    );
    expect(
      (
        await append({
          byUserId: 'alice',
          userIds: ['carol'],
          remark: 'security',
        })
      ).status,
    ).toBe(200);
    await control(t.sandbox).post(`/dingtalk/instances/${id}/approve`, {
      userId: 'carol',
    });
    const read = await api.get(
      `/v1.0/workflow/processInstances?processInstanceId=${id}`,
    );
    expect(read.body.result).toMatchObject({
      status: 'COMPLETED',
      result: 'agree',
    });
    expect(read.body.result.operationRecords).toEqual([
      expect.objectContaining({ type: 'START_PROCESS_INSTANCE' }),
      expect.objectContaining({
        type: 'APPEND_TASK_BEFORE',
        userId: 'alice',
        remark: 'security',
      }),
      expect.objectContaining({
        type: 'EXECUTE_TASK_NORMAL',
        userId: 'carol',
        result: 'AGREE',
      }),
    ]);
  });

  it('sends work notices to each user once per content and day, and refuses a wrong agent_id or too many users', async () => {
    const api = await dingtalk(t.sandbox);
    const send = (body: object) =>
      api.post(
        `/topapi/message/corpconversation/asyncsend_v2?access_token=${api.token}`,
        body,
      );
    const msg = { msgtype: 'text', text: { content: 'Please decide' } };
    const sent = await send({
      agent_id: DINGTALK_APP.agentId,
      userid_list: 'alice,bob',
      msg,
    });
    expect(sent.body).toMatchObject({
      errcode: 0,
      task_id: expect.any(Number),
    });
    await send({ agent_id: DINGTALK_APP.agentId, userid_list: 'alice', msg });
    const alice = await control(t.sandbox).get('/dingtalk/messages?user=alice');
    expect(alice.body).toEqual([
      expect.objectContaining({ userId: 'alice', msg }),
    ]);

    const wrongAgent = await send({ agent_id: 1, userid_list: 'alice', msg });
    expect(wrongAgent.body.errcode).toBe(40035);
    const tooMany = await send({
      agent_id: DINGTALK_APP.agentId,
      userid_list: Array.from({ length: 101 }, (_, i) => `u${i}`).join(','),
      msg,
    });
    expect(tooMany.body).toMatchObject({
      errcode: 40035,
      errmsg: expect.stringContaining('userid_list'),
    });
  });
});
