import {
  WECOM_APP,
  WECOM_APPLY_REQUEST,
  WECOM_CORP_ID,
  WECOM_TEMPLATE_ID,
  wecom,
} from '../testing/wecom';
import { call, control, useTestSandbox } from '../testing/sandbox';

// WeCom's API: paths, fields, sp_status values and errcodes.

describe('the WeCom API', () => {
  const t = useTestSandbox();
  const gettoken = (query: string) =>
    call(t.sandbox.url, 'GET', `/cgi-bin/gettoken?${query}`);

  it('issues one token per corpid + app secret, and refuses each missing or wrong credential with its errcode', async () => {
    const first = await gettoken(
      `corpid=${WECOM_CORP_ID}&corpsecret=${WECOM_APP.secret}`,
    );
    expect(first.status).toBe(200);
    expect(first.body).toEqual({
      errcode: 0,
      errmsg: 'ok',
      access_token: expect.any(String),
      expires_in: 7200,
    });
    expect(
      (await gettoken(`corpid=${WECOM_CORP_ID}&corpsecret=${WECOM_APP.secret}`))
        .body.access_token,
    ).toBe(first.body.access_token);

    const refusals = await Promise.all(
      [
        `corpsecret=${WECOM_APP.secret}`,
        `corpid=${WECOM_CORP_ID}`,
        `corpid=wwother&corpsecret=${WECOM_APP.secret}`,
        `corpid=${WECOM_CORP_ID}&corpsecret=no`,
      ].map(gettoken),
    );
    expect(
      refusals.map(answer => [answer.status, answer.body.errcode]),
    ).toEqual([
      [200, 41002],
      [200, 41004],
      [200, 40013],
      [200, 40001],
    ]);
    expect(refusals[2].body.errmsg).toMatch(
      /^invalid corpid, hint: \[[0-9a-f]+\], more info at .*e=40013$/,
    );
    expect(
      (await control(t.sandbox).get('/wecom/stats')).body.tokenRequests,
    ).toEqual({ [WECOM_APP.agentId]: 2 });
  });

  it('answers 41001 without a token, 40014 for an unknown one and 42001 once it has expired', async () => {
    const body = { template_id: WECOM_TEMPLATE_ID };
    expect(
      (
        await call(t.sandbox.url, 'POST', '/cgi-bin/oa/gettemplatedetail', {
          body,
        })
      ).body.errcode,
    ).toBe(41001);
    expect(
      (
        await call(
          t.sandbox.url,
          'POST',
          '/cgi-bin/oa/gettemplatedetail?access_token=forged',
          { body },
        )
      ).body.errcode,
    ).toBe(40014);
    const api = await wecom(t.sandbox);
    expect(
      (await api.post('/cgi-bin/oa/gettemplatedetail', body)).body.errcode,
    ).toBe(0);
    await control(t.sandbox).post('/wecom/tokens/expire');
    expect(
      (await api.post('/cgi-bin/oa/gettemplatedetail', body)).body.errcode,
    ).toBe(42001);
    expect((await wecom(t.sandbox)).token).not.toBe(api.token);
  });

  it('reads a template: controls with their zh_CN titles and require', async () => {
    const api = await wecom(t.sandbox);
    const detail = await api.post('/cgi-bin/oa/gettemplatedetail', {
      template_id: WECOM_TEMPLATE_ID,
    });
    expect(detail.body.template_names).toEqual([
      { text: 'Production deployment', lang: 'zh_CN' },
    ]);
    expect(
      detail.body.template_content.controls.map(
        (entry: { property: object }) => entry.property,
      ),
    ).toEqual([
      {
        control: 'Text',
        id: 'Text-1',
        title: [{ text: 'Service', lang: 'zh_CN' }],
        placeholder: [],
        require: 1,
        un_print: 0,
      },
      {
        control: 'Textarea',
        id: 'Textarea-2',
        title: [{ text: 'Reason', lang: 'zh_CN' }],
        placeholder: [],
        require: 0,
        un_print: 0,
      },
    ]);
    expect(
      (await api.post('/cgi-bin/oa/gettemplatedetail', { template_id: 'nope' }))
        .body.errcode,
    ).toBe(40058);
  });

  it('runs an AND node then an OR node; the detail has sp_status, each approver with speech and sptime, and the comments', async () => {
    const api = await wecom(t.sandbox);
    const spNo = await api.apply({
      process: {
        node_list: [
          { type: 1, apv_rel: 1, userid: ['alice', 'bob'] },
          { type: 2, userid: ['carol'] },
          { type: 1, apv_rel: 2, userid: ['carol', 'bob'] },
        ],
      },
    });
    expect(spNo).toMatch(/^\d{8}\d{4}$/);
    await control(t.sandbox).post('/wecom/detail-shape', { shape: 'legacy' });
    const created = (await api.detail(spNo)).info;
    expect(created).toMatchObject({
      sp_no: spNo,
      sp_name: 'Production deployment',
      sp_status: 1,
      template_id: WECOM_TEMPLATE_ID,
      applyer: { userid: 'bot' },
      notifyer: [{ userid: 'carol' }],
      apply_data: {
        contents: [
          {
            control: 'Text',
            id: 'Text-1',
            title: [{ text: 'Service', lang: 'zh_CN' }],
            value: { text: 'payments' },
          },
          expect.anything(),
        ],
      },
      comments: [],
    });
    expect(
      created.sp_record.map(
        (record: { approverattr: number }) => record.approverattr,
      ),
    ).toEqual([2, 1]);

    await control(t.sandbox).post(`/wecom/instances/${spNo}/approve`, {
      userId: 'alice',
      comment: 'fine',
    });
    expect((await api.detail(spNo)).info.sp_status).toBe(1);
    await control(t.sandbox).post(`/wecom/instances/${spNo}/approve`, {
      userId: 'bob',
    });
    await control(t.sandbox).post(`/wecom/instances/${spNo}/comments`, {
      userId: 'carol',
      content: 'watching this one',
    });
    await control(t.sandbox).post(`/wecom/instances/${spNo}/approve`, {
      userId: 'carol',
      comment: 'ship it',
    });

    const done = (await api.detail(spNo)).info;
    expect(done.sp_status).toBe(2);
    const decisions = done.sp_record.map(
      (record: {
        sp_status: number;
        details: Array<{
          approver: { userid: string };
          speech: string;
          sp_status: number;
          sptime: number;
        }>;
      }) => ({
        node: record.sp_status,
        details: record.details.map(
          detail =>
            `${detail.approver.userid} ${detail.sp_status} "${detail.speech}" ${detail.sptime > 0 ? 'timed' : 'untimed'}`,
        ),
      }),
    );
    expect(decisions).toEqual([
      { node: 2, details: ['alice 2 "fine" timed', 'bob 2 "" timed'] },
      { node: 2, details: ['carol 2 "ship it" timed', 'bob 1 "" untimed'] },
    ]);
    expect(
      Math.abs(done.sp_record[1].details[0].sptime - Date.now() / 1000),
    ).toBeLessThan(5);
    expect(done.comments).toEqual([
      {
        commentUserInfo: { userid: 'carol' },
        commenttime: expect.any(Number),
        commentcontent: 'watching this one',
        commentid: expect.any(String),
        media_id: [],
      },
    ]);
  });

  it('maps every outcome to its sp_status: 3 rejected, 4 revoked, 6 revoked after approval, 7 deleted, 10 paid', async () => {
    const api = await wecom(t.sandbox);
    const status = async (spNo: string) =>
      (await api.detail(spNo)).info.sp_status;
    const settle = (spNo: string, spStatus: number) =>
      control(t.sandbox).post(`/wecom/instances/${spNo}/status`, { spStatus });
    await control(t.sandbox).post('/wecom/detail-shape', { shape: 'legacy' });

    // The older request shape: approver[].attr 2 = all must approve.
    const rejected = await api.apply({
      process: undefined,
      approver: [{ attr: 2, userid: ['alice', 'bob'] }],
    });
    await control(t.sandbox).post(`/wecom/instances/${rejected}/approve`, {
      userId: 'alice',
    });
    await control(t.sandbox).post(`/wecom/instances/${rejected}/reject`, {
      userId: 'bob',
      comment: 'not today',
    });
    expect(await status(rejected)).toBe(3);
    expect(
      (await api.detail(rejected)).info.sp_record[0].details[1],
    ).toMatchObject({ sp_status: 3, speech: 'not today' });

    const revoked = await api.apply();
    expect((await settle(revoked, 6)).status).toBe(409);
    expect((await settle(revoked, 4)).body.status).toBe('REVOKED');
    expect(await status(revoked)).toBe(4);
    const late = await control(t.sandbox).post(
      `/wecom/instances/${revoked}/approve`,
      {},
    );
    expect(late.status).toBe(409);
    expect(late.body.error).toMatch(/sp_status 4; only a pending request/);

    const approved = await api.apply();
    await control(t.sandbox).post(`/wecom/instances/${approved}/approve`, {
      userId: 'bob',
    });
    expect(await status(approved)).toBe(2);
    expect((await settle(approved, 4)).status).toBe(409);
    await settle(approved, 10);
    expect(await status(approved)).toBe(10);

    const withdrawn = await api.apply();
    await control(t.sandbox).post(`/wecom/instances/${withdrawn}/approve`, {});
    await settle(withdrawn, 6);
    expect(await status(withdrawn)).toBe(6);
    await settle(withdrawn, 7);
    expect(await status(withdrawn)).toBe(7);
    expect((await settle(withdrawn, 7)).status).toBe(409);
    expect((await settle(withdrawn, 5)).status).toBe(400);
  });

  it('refuses bad requests with 301025 naming what is wrong, and creates nothing', async () => {
    const api = await wecom(t.sandbox);
    const contents = (entries: object[]) => ({
      apply_data: { contents: entries },
    });
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ template_id: 'nope' }, /template_id nope does not exist/],
      [{ creator_userid: 'mallory' }, /creator_userid mallory is not a member/],
      [
        contents([{ control: 'Text', id: 'Text-9', value: { text: 'x' } }]),
        /has no control Text-9/,
      ],
      [
        contents([{ control: 'Textarea', id: 'Text-1', value: { text: 'x' } }]),
        /control Text-1 is Text, not Textarea/,
      ],
      [
        contents([
          { control: 'Textarea', id: 'Textarea-2', value: { text: 'x' } },
        ]),
        /required control Text-1 \("Service"\)/,
      ],
      [
        {
          process: {
            node_list: [{ type: 1, apv_rel: 2, userid: ['mallory'] }],
          },
        },
        /userid mallory is not a member/,
      ],
      [
        { process: { node_list: [{ type: 2, userid: ['alice'] }] } },
        /at least one approver node/,
      ],
      [{ summary_list: [] }, /summary_list/],
      [
        {
          summary_list: [
            {
              summary_info: [
                {
                  text: '发布 payments 到生产环境，原因：修复支付回调',
                  lang: 'zh_CN',
                },
              ],
            },
          ],
        },
        /longer than 20 characters/,
      ],
      [{ use_template_approver: 1 }, /no approval flow of its own/],
    ];
    for (const [overrides, message] of cases) {
      const answer = await api.post('/cgi-bin/oa/applyevent', {
        ...WECOM_APPLY_REQUEST,
        ...overrides,
      });
      expect({ status: answer.status, errcode: answer.body.errcode }).toEqual({
        status: 200,
        errcode: 301025,
      });
      expect(answer.body.errmsg).toMatch(message);
    }
    expect((await control(t.sandbox).get('/wecom/instances')).body).toEqual([]);
  });

  it('finds members by email and by mobile (bare digits only), with 46004 for nobody; reads a member by userid', async () => {
    const api = await wecom(t.sandbox);
    expect(
      (
        await api.post('/cgi-bin/user/get_userid_by_email', {
          email: 'Bob@example.com',
          email_type: 2,
        })
      ).body,
    ).toMatchObject({ errcode: 0, userid: 'bob' });
    expect(
      (await api.post('/cgi-bin/user/getuserid', { mobile: '13800000001' }))
        .body,
    ).toMatchObject({ errcode: 0, userid: 'alice' });
    // As members' mobiles are kept: bare digits; +86, spaces or dashes find nobody.
    expect(
      (await api.post('/cgi-bin/user/getuserid', { mobile: '13800000002' }))
        .body,
    ).toMatchObject({ errcode: 0, userid: 'bob' });
    for (const written of [
      '+8613800000002',
      '138 0000 0002',
      '138-0000-0002',
    ]) {
      expect(
        (await api.post('/cgi-bin/user/getuserid', { mobile: written })).body
          .errcode,
      ).toBe(46004);
    }
    expect(
      (
        await api.post('/cgi-bin/user/get_userid_by_email', {
          email: 'nobody@example.com',
        })
      ).body.errcode,
    ).toBe(46004);
    expect(
      (await api.post('/cgi-bin/user/getuserid', { mobile: '13900000000' }))
        .body.errcode,
    ).toBe(46004);
    expect(
      (await api.get('/cgi-bin/user/get?userid=alice')).body,
    ).toMatchObject({ errcode: 0, userid: 'alice', name: 'Alice Chen' });
    expect(
      (await api.get('/cgi-bin/user/get?userid=mallory')).body.errcode,
    ).toBe(60111);
  });

  it('reads a request in the current shape (process_list … sub_node_list with sp_yj) unless the legacy sp_record is asked for', async () => {
    const api = await wecom(t.sandbox);
    const spNo = await api.apply({
      process: {
        node_list: [{ type: 1, apv_rel: 2, userid: ['alice', 'bob'] }],
      },
    });
    await control(t.sandbox).post(`/wecom/instances/${spNo}/approve`, {
      userId: 'bob',
      comment: 'ship it',
    });
    const current = (await api.detail(spNo)).info;
    expect(current.sp_record).toBeUndefined();
    expect(current.process_list.node_list).toEqual([
      {
        node_type: 1,
        sp_status: 2,
        apv_rel: 2,
        sub_node_list: [
          { userid: 'alice', speech: '', sp_yj: 1, sptime: 0, media_id: [] },
          {
            userid: 'bob',
            speech: 'ship it',
            sp_yj: 2,
            sptime: expect.any(Number),
            media_id: [],
          },
        ],
      },
    ]);
    await control(t.sandbox).post('/wecom/detail-shape', { shape: 'legacy' });
    const legacy = (await api.detail(spNo)).info;
    expect(legacy.process_list).toBeUndefined();
    expect(legacy.sp_record[0].details[1]).toMatchObject({
      approver: { userid: 'bob' },
      sp_status: 2,
      speech: 'ship it',
    });
  });

  it('lists a task handed on (转审) as sp_yj 4 with its speech, the one it went to after it, whose decision settles an all-must node', async () => {
    const api = await wecom(t.sandbox);
    const spNo = await api.apply({
      process: {
        node_list: [{ type: 1, apv_rel: 1, userid: ['alice', 'bob'] }],
      },
    });
    const handOn = (body: object) =>
      control(t.sandbox).post(`/wecom/instances/${spNo}/transfer`, body);
    expect(
      (await handOn({ fromUserId: 'bob', toUserId: 'mallory' })).status,
    ).toBe(404);
    expect(
      (
        await handOn({
          fromUserId: 'bob',
          toUserId: 'carol',
          speech: 'on leave',
        })
      ).status,
    ).toBe(200);
    await control(t.sandbox).post(`/wecom/instances/${spNo}/approve`, {
      userId: 'alice',
    });
    const waiting = (await api.detail(spNo)).info;
    expect(waiting.sp_status).toBe(1);
    expect(
      waiting.process_list.node_list[0].sub_node_list.map(
        (sub: { userid: string; sp_yj: number; speech: string }) => [
          sub.userid,
          sub.sp_yj,
          sub.speech,
        ],
      ),
    ).toEqual([
      ['alice', 2, ''],
      ['bob', 4, 'on leave'],
      ['carol', 1, ''],
    ]);
    await control(t.sandbox).post(`/wecom/instances/${spNo}/approve`, {
      userId: 'carol',
      comment: 'covering',
    });
    expect((await api.detail(spNo)).info.sp_status).toBe(2);
    // A settled request is handed on no more.
    expect(
      (await handOn({ fromUserId: 'carol', toUserId: 'alice' })).status,
    ).toBe(409);
  });

  it("looks up email_type 1 (the default) among WeCom Mail addresses only and 2 among members' own email fields only", async () => {
    const api = await wecom(t.sandbox);
    await control(t.sandbox).post('/wecom/users', {
      userId: 'carol',
      name: 'Carol Wu',
      email: 'carol@gmail.example',
      bizMail: 'carol@corp.exmail.example',
    });
    const byEmail = (email: string, emailType?: 1 | 2) =>
      api.post('/cgi-bin/user/get_userid_by_email', {
        email,
        ...(emailType === undefined ? {} : { email_type: emailType }),
      });
    expect((await byEmail('carol@corp.exmail.example')).body).toMatchObject({
      errcode: 0,
      userid: 'carol',
    });
    expect((await byEmail('carol@corp.exmail.example', 1)).body).toMatchObject({
      errcode: 0,
      userid: 'carol',
    });
    expect((await byEmail('carol@corp.exmail.example', 2)).body.errcode).toBe(
      46004,
    );
    expect((await byEmail('carol@gmail.example', 2)).body).toMatchObject({
      errcode: 0,
      userid: 'carol',
    });
    expect((await byEmail('carol@gmail.example', 1)).body.errcode).toBe(46004);
    expect((await byEmail('alice@example.com')).body.errcode).toBe(46004);
    expect(
      (await api.get('/cgi-bin/user/get?userid=carol')).body,
    ).toMatchObject({
      email: 'carol@gmail.example',
      biz_mail: 'carol@corp.exmail.example',
    });
  });

  it('answers 45009 once the OA calls of the last minute exceed the limit; other calls go on', async () => {
    const api = await wecom(t.sandbox);
    expect(
      (
        await call(t.sandbox.url, 'PUT', '/_sandbox/wecom/rate-limit', {
          body: { perMinute: 0 },
        })
      ).status,
    ).toBe(400);
    expect(
      (
        await call(t.sandbox.url, 'PUT', '/_sandbox/wecom/rate-limit', {
          body: { perMinute: 3 },
        })
      ).body,
    ).toEqual({ perMinute: 3 });
    try {
      const spNo = await api.apply();
      expect((await api.detail(spNo)).errcode).toBe(0);
      expect(
        (
          await api.post('/cgi-bin/oa/gettemplatedetail', {
            template_id: WECOM_TEMPLATE_ID,
          })
        ).body.errcode,
      ).toBe(0);

      const limited = await api.detail(spNo);
      expect(limited.errcode).toBe(45009);
      expect(limited.errmsg).toMatch(/^api freq out of limit/);
      expect(
        (await api.post('/cgi-bin/oa/applyevent', WECOM_APPLY_REQUEST)).body
          .errcode,
      ).toBe(45009);
      expect(
        (await api.post('/cgi-bin/user/getuserid', { mobile: '13800000001' }))
          .body.errcode,
      ).toBe(0);
      expect(
        (await control(t.sandbox).get('/wecom/instances')).body,
      ).toHaveLength(1);
      expect((await control(t.sandbox).get('/wecom/stats')).body).toMatchObject(
        { rateLimited: 2, rateLimitPerMinute: 3, instanceCreates: 1 },
      );

      await control(t.sandbox).post('/reset');
      expect(
        (
          await api.post('/cgi-bin/oa/gettemplatedetail', {
            template_id: WECOM_TEMPLATE_ID,
          })
        ).body.errcode,
      ).toBe(0);
    } finally {
      await call(t.sandbox.url, 'PUT', '/_sandbox/wecom/rate-limit', {
        body: { perMinute: 600 },
      });
    }
  });

  it('answers injected faults, bad JSON, and paths WeCom does not have (there is no revoke API)', async () => {
    const api = await wecom(t.sandbox);
    const fault = await control(t.sandbox).post('/wecom/faults', {
      route: 'oa.applyevent',
      code: 301055,
    });
    expect(fault.body).toMatchObject({
      msg: 'no approval auth',
      httpStatus: 200,
    });
    const refused = await api.post(
      '/cgi-bin/oa/applyevent',
      WECOM_APPLY_REQUEST,
    );
    expect({ status: refused.status, errcode: refused.body.errcode }).toEqual({
      status: 200,
      errcode: 301055,
    });
    expect(
      (await api.post('/cgi-bin/oa/applyevent', WECOM_APPLY_REQUEST)).body
        .errcode,
    ).toBe(0);

    const notJson = await fetch(
      `${t.sandbox.url}/cgi-bin/oa/getapprovaldetail?access_token=${api.token}`,
      { method: 'POST', body: '{"sp_no":' },
    );
    expect((await notJson.json()).errcode).toBe(47001);
    const revoke = await api.post('/cgi-bin/oa/revokeapproval', {
      sp_no: '202401010001',
    });
    expect(revoke.status).toBe(404);
  });

  it('lists sp_nos by template, creator and a time window in seconds (31 days at most), 100 at most a page', async () => {
    const api = await wecom(t.sandbox);
    const since = Math.floor(Date.now() / 1000) - 1;
    const first = await api.apply();
    const second = await api.apply();
    const list = (body: object) =>
      api.post('/cgi-bin/oa/getapprovalinfo', {
        starttime: String(since),
        endtime: String(since + 60),
        new_cursor: '',
        size: 100,
        ...body,
      });
    const creator = WECOM_APPLY_REQUEST.creator_userid;
    const mine = await list({
      filters: [
        { key: 'template_id', value: WECOM_TEMPLATE_ID },
        { key: 'creator', value: creator },
      ],
    });
    expect(mine.body).toMatchObject({
      errcode: 0,
      sp_no_list: [first, second],
      new_next_cursor: '',
    });
    expect(
      (await list({ filters: [{ key: 'creator', value: 'nobody' }] })).body
        .sp_no_list,
    ).toEqual([]);
    expect((await list({ size: 1 })).body).toMatchObject({
      sp_no_list: [first],
      new_next_cursor: '1',
    });
    expect((await list({ size: 1, new_cursor: '1' })).body).toMatchObject({
      sp_no_list: [second],
      new_next_cursor: '',
    });
    expect(
      (await list({ endtime: String(since + 32 * 86_400) })).body.errcode,
    ).toBe(40058);
    expect(
      (
        await list({
          starttime: String(since * 1000),
          endtime: String(since * 1000 + 60),
        })
      ).body.errcode,
    ).toBe(40058);
  });

  it("can make a request and then drop applyevent's answer, as after a timeout", async () => {
    const api = await wecom(t.sandbox);
    await control(t.sandbox).post('/wecom/answer-faults', {
      route: 'oa.applyevent',
      lose: 'http500',
    });
    const lost = await api.post('/cgi-bin/oa/applyevent', WECOM_APPLY_REQUEST);
    expect(lost.status).toBe(500);
    expect(
      (await control(t.sandbox).get('/wecom/instances')).body,
    ).toHaveLength(1);
  });
});
