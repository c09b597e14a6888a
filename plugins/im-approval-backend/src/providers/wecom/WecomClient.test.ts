import { mockServices } from '@backstage/backend-test-utils';
import { wecomIntegrationSchema } from '@im-approval/plugin-im-approval-common';
import nock from 'nock';
import { imApiError, useNock } from '../__testUtils__/providerTestUtils';
import type {
  ImContextLine,
  ImInstanceRequest,
} from '@im-approval/plugin-im-approval-node';
import { WecomClient } from './WecomClient';

const BASE = 'https://qyapi.wecom.test';

function integration(agentId = 1000002, secret = 'secret-a') {
  return wecomIntegrationSchema.parse({
    id: `wecom-${agentId}`,
    provider: 'wecom',
    baseUrl: BASE,
    corpId: 'wwcorp',
    agentId,
    secret,
    connectionMode: 'poll',
    initiator: 'bot@example.com',
  });
}

function client(agentId?: number, secret?: string) {
  return new WecomClient(integration(agentId, secret), {
    logger: mockServices.logger.mock(),
    callbackMaxAgeSeconds: 300,
    keepToRateLimits: true,
  });
}

function tokenOnce(token = 'tok-a', secret = 'secret-a') {
  return nock(BASE)
    .get('/cgi-bin/gettoken')
    .query({ corpid: 'wwcorp', corpsecret: secret })
    .reply(200, {
      errcode: 0,
      errmsg: 'ok',
      access_token: token,
      expires_in: 7200,
    });
}

/** The applyevent body a createInstance sends, on a template read as `templateBody`. */
async function applyeventBody(
  templateBody: object,
  request: Partial<ImInstanceRequest>,
): Promise<any> {
  tokenOnce();
  nock(BASE)
    .post('/cgi-bin/oa/gettemplatedetail')
    .query(true)
    .reply(200, templateBody);
  let sent: any;
  nock(BASE)
    .post('/cgi-bin/oa/applyevent', body => {
      sent = body;
      return true;
    })
    .query(true)
    .reply(200, { errcode: 0, errmsg: 'ok', sp_no: 'SP-1' });
  await client().createInstance({
    approvalId: 'a',
    form: 'TPL',
    title: 'Deploy api',
    fields: [{ field: 'Service', value: 'api' }],
    stages: [{ approvers: ['bob'], rule: 'any' }],
    initiator: 'bot',
    ...request,
  });
  return sent;
}

function detail(spStatus: number, nodes: object[] = []) {
  return {
    errcode: 0,
    errmsg: 'ok',
    info: {
      sp_no: 'SP-1',
      sp_status: spStatus,
      process_list: { node_list: [{ sub_node_list: nodes }] },
    },
  };
}

const template = {
  errcode: 0,
  errmsg: 'ok',
  template_content: {
    controls: [
      {
        property: {
          control: 'Text',
          id: 'Text-1',
          title: [{ text: 'Service', lang: 'zh_CN' }],
          require: 1,
        },
      },
      {
        property: {
          control: 'Textarea',
          id: 'Textarea-2',
          title: [{ text: 'Reason', lang: 'zh_CN' }],
          require: 0,
        },
      },
    ],
  },
};

useNock();

describe('WecomClient', () => {
  it('fetches one token per corp and app however many calls run at once', async () => {
    tokenOnce('tok-a', 'secret-a');
    tokenOnce('tok-b', 'secret-b');
    nock(BASE)
      .post('/cgi-bin/oa/getapprovaldetail')
      .query({ access_token: 'tok-a' })
      .times(4)
      .reply(200, detail(1));
    nock(BASE)
      .post('/cgi-bin/oa/getapprovaldetail')
      .query({ access_token: 'tok-b' })
      .times(2)
      .reply(200, detail(1));
    const appA = client(1000002, 'secret-a');
    const appB = client(1000003, 'secret-b');
    await Promise.all([
      ...[1, 2, 3, 4].map(i => appA.readInstance(`SP-${i}`)),
      ...[1, 2].map(i => appB.readInstance(`SP-${i}`)),
    ]);
  });

  it.each([40014, 42001])(
    'fetches a new token once when WeCom answers %s, and carries on',
    async errcode => {
      tokenOnce('old');
      nock(BASE)
        .post('/cgi-bin/oa/getapprovaldetail')
        .query({ access_token: 'old' })
        .reply(200, { errcode, errmsg: 'invalid access_token' });
      tokenOnce('new');
      nock(BASE)
        .post('/cgi-bin/oa/getapprovaldetail', { sp_no: 'SP-1' })
        .query({ access_token: 'new' })
        .reply(200, detail(1));
      expect((await client().readInstance('SP-1')).status).toBe('pending');
    },
  );

  it('opens a request with contents from the template, approvers with apv_rel, and the creator looked up once by email', async () => {
    tokenOnce();
    nock(BASE)
      .post('/cgi-bin/oa/gettemplatedetail', { template_id: 'TPL' })
      .query(true)
      .once()
      .reply(200, template);
    nock(BASE)
      .post('/cgi-bin/user/get_userid_by_email', {
        email: 'bot@example.com',
        email_type: 1,
      })
      .query(true)
      .once()
      .reply(200, { errcode: 0, userid: 'bot' });
    nock(BASE)
      .post('/cgi-bin/user/getuserid', { mobile: '13800000001' })
      .query(true)
      .once()
      .reply(200, { errcode: 0, userid: 'alice' });
    const bodies: unknown[] = [];
    nock(BASE)
      .post('/cgi-bin/oa/applyevent', body => bodies.push(body) > 0)
      .query(true)
      .times(2)
      .reply(200, { errcode: 0, errmsg: 'ok', sp_no: '202611210001' });
    const wecom = client();
    const request = {
      approvalId: 'a-1',
      form: 'TPL',
      title: 'Deploy api',
      fields: [
        { field: 'Service', value: 'api' },
        { field: 'Textarea-2', value: 'release' },
      ],
    };
    const stage = { approvers: ['13800000001', 'bob'] };
    // Each control's title, as approvers see it, by the field as the template names it.
    expect(
      await wecom.createInstance({
        ...request,
        stages: [{ ...stage, rule: 'all' }],
      }),
    ).toEqual({
      instanceId: '202611210001',
      url: undefined,
      labels: new Map([
        ['Service', 'Service'],
        ['Textarea-2', 'Reason'],
      ]),
    });
    await wecom.createInstance({
      ...request,
      stages: [{ ...stage, rule: 'any' }],
    });
    expect(bodies[0]).toEqual({
      creator_userid: 'bot',
      template_id: 'TPL',
      use_template_approver: 0,
      process: {
        node_list: [{ type: 1, apv_rel: 1, userid: ['alice', 'bob'] }],
      },
      apply_data: {
        contents: [
          { control: 'Text', id: 'Text-1', value: { text: 'api' } },
          { control: 'Textarea', id: 'Textarea-2', value: { text: 'release' } },
        ],
      },
      summary_list: [
        { summary_info: [{ text: 'Deploy api', lang: 'zh_CN' }] },
        { summary_info: [{ text: 'Service: api', lang: 'zh_CN' }] },
        { summary_info: [{ text: 'Textarea-2: release', lang: 'zh_CN' }] },
      ],
    });
    expect(
      (bodies[1] as { process: { node_list: Array<{ apv_rel: number }> } })
        .process.node_list[0].apv_rel,
    ).toBe(2);
  });

  it.each([
    [1, 'pending'],
    [2, 'approved'],
    [3, 'rejected'],
    [4, 'canceled'],
    [6, 'canceled'],
    [7, 'deleted'],
    [10, 'approved'],
  ])('reads the documented sp_status %p as %p', async (spStatus, status) => {
    tokenOnce();
    nock(BASE)
      .post('/cgi-bin/oa/getapprovaldetail', { sp_no: 'SP-1' })
      .query(true)
      .reply(200, detail(spStatus));
    expect((await client().readInstance('SP-1')).status).toBe(status);
  });

  it('reads a task handed on (转审, sp_yj 4) with who handed it on and their speech, and no hand-over while pending', async () => {
    tokenOnce();
    nock(BASE)
      .post('/cgi-bin/oa/getapprovaldetail', { sp_no: 'SP-1' })
      .query(true)
      .reply(
        200,
        detail(2, [
          { userid: 'bob', sp_yj: 4, speech: 'on leave', sptime: 1763712000 },
          { userid: 'carol', sp_yj: 2, speech: 'covering', sptime: 1763712060 },
        ]),
      );
    nock(BASE)
      .post('/cgi-bin/oa/getapprovaldetail', { sp_no: 'SP-2' })
      .query(true)
      .reply(
        200,
        detail(1, [
          { userid: 'bob', sp_yj: 4, speech: 'on leave', sptime: 1763712000 },
          { userid: 'carol', sp_yj: 1, speech: '', sptime: 0 },
        ]),
      );
    for (const [userid, name] of [
      ['bob', 'Bob Li'],
      ['carol', 'Carol Wu'],
    ])
      nock(BASE)
        .get('/cgi-bin/user/get')
        .query(q => q.userid === userid)
        .reply(200, { errcode: 0, name });
    const wecom = client();
    expect(await wecom.readInstance('SP-1')).toMatchObject({
      status: 'approved',
      decidedBy: { id: 'carol', name: 'Carol Wu' },
      comment: 'covering',
      handovers: [
        {
          kind: 'transferred',
          from: { id: 'bob', name: 'Bob Li' },
          to: [],
          comment: 'on leave',
        },
      ],
    });
    expect(await wecom.readInstance('SP-2')).not.toHaveProperty('handovers');
  });

  it('reads the approver and speech of the decision, in the current and the older shape', async () => {
    tokenOnce();
    nock(BASE)
      .post('/cgi-bin/oa/getapprovaldetail', { sp_no: 'SP-1' })
      .query(true)
      .reply(
        200,
        detail(3, [
          {
            userid: 'alice',
            sp_yj: 2,
            speech: 'fine by me',
            sptime: 1763712000,
          },
          { userid: 'bob', sp_yj: 3, speech: 'not today', sptime: 1763712060 },
        ]),
      );
    nock(BASE)
      .post('/cgi-bin/oa/getapprovaldetail', { sp_no: 'SP-2' })
      .query(true)
      .reply(200, {
        errcode: 0,
        info: {
          sp_status: 2,
          sp_record: [
            {
              details: [
                {
                  approver: { userid: 'alice' },
                  speech: 'ok',
                  sp_status: 2,
                  sptime: 1763712000,
                },
              ],
            },
          ],
        },
      });
    nock(BASE)
      .get('/cgi-bin/user/get')
      .query(q => q.userid === 'bob')
      .reply(200, { errcode: 0, name: 'Bob Li', email: 'bob@example.com' });
    nock(BASE)
      .get('/cgi-bin/user/get')
      .query(q => q.userid === 'alice')
      .reply(200, {
        errcode: 60011,
        errmsg: 'no privilege to access/modify contact',
      });
    const wecom = client();
    expect(await wecom.readInstance('SP-1')).toMatchObject({
      status: 'rejected',
      decidedBy: { id: 'bob', name: 'Bob Li' },
      comment: 'not today',
      decidedAt: new Date(1763712060_000),
    });
    expect(await wecom.readInstance('SP-2')).toMatchObject({
      status: 'approved',
      decidedBy: { id: 'alice', name: 'alice' },
      comment: 'ok',
      decidedAt: new Date(1763712000_000),
    });
  });

  it('counts sp_yj 13 (approved, an approver added) as an approval in the current shape', async () => {
    tokenOnce();
    nock(BASE)
      .post('/cgi-bin/oa/getapprovaldetail', { sp_no: 'SP-1' })
      .query(true)
      .reply(
        200,
        detail(2, [
          {
            userid: 'alice',
            sp_yj: 13,
            speech: 'ok, and carol too',
            sptime: 1763712000,
          },
          { userid: 'carol', sp_yj: 1, sptime: 0 },
        ]),
      );
    nock(BASE)
      .get('/cgi-bin/user/get')
      .query(q => q.userid === 'alice')
      .reply(200, { errcode: 0, name: 'Alice', email: 'alice@example.com' });
    expect(await client().readInstance('SP-1')).toMatchObject({
      status: 'approved',
      decidedBy: { id: 'alice', name: 'Alice' },
      comment: 'ok, and carol too',
      decidedAt: new Date(1763712000_000),
    });
  });

  it('cuts summary_list lines to the documented 20 characters, counting code points', async () => {
    const summary = (
      await applyeventBody(template, {
        title: '发布 payments 到生产环境 🚀🚀 release 2.3',
        fields: [{ field: 'Service', value: 'payments-gateway-eu-west' }],
      })
    ).summary_list;
    const lines = (
      summary as Array<{ summary_info: Array<{ text: string }> }>
    ).map(line => line.summary_info[0].text);
    expect(lines).toEqual([
      '发布 payments 到生产环境 🚀…',
      'Service: payments-g…',
    ]);
    for (const line of lines) expect([...line].length).toBeLessThanOrEqual(20);
  });

  it("gives the request's note a summary line of its own, after the title and before the fields", async () => {
    const summary = (
      await applyeventBody(template, {
        title: 'Deploy api from acme/api · Reviewers: 2 of 3 must approve',
        note: '2 of 3 must approve',
        fields: [
          { field: 'Service', value: 'api' },
          { field: 'Reason', value: 'release' },
        ],
        stages: [{ approvers: ['bob'], rule: 'all' }],
      })
    ).summary_list;
    expect(
      (summary as Array<{ summary_info: Array<{ text: string }> }>).map(
        line => line.summary_info[0].text,
      ),
    ).toEqual(['Deploy api from acm…', '2 of 3 must approve', 'Service: api']);
  });

  it('says it cannot revoke, without calling WeCom', async () => {
    expect(await client().cancelInstance()).toEqual({
      revoked: false,
      message: expect.stringMatching(/no API to revoke/),
    });
  });

  it.each([
    [
      45009,
      'rate_limited',
      /WeCom rate limit reached while trying to read an approval request \(code 45009: api freq out of limit; the OA APIs allow 600 calls a minute\); retrying later/,
    ],
    [
      301055,
      'permission',
      /may not read an approval request .*open the Approval app → API and add the app to "apps that may call the API"/,
    ],
    [301025, 'invalid_request', /visible range/],
  ] as const)(
    'maps errcode %s to a %s error a person can act on',
    async (errcode, kind, message) => {
      tokenOnce();
      nock(BASE)
        .post('/cgi-bin/oa/getapprovaldetail')
        .query(true)
        .reply(200, {
          errcode,
          errmsg: errcode === 45009 ? 'api freq out of limit' : 'refused',
        });
      const error = await imApiError(client().readInstance('SP-1'));
      expect(error.kind).toBe(kind);
      expect(error.message).toMatch(message);
      expect(error.transient).toBe(kind === 'rate_limited');
    },
  );

  it.each([
    [-1, 'system busy', 'unavailable'],
    [45009, 'api freq out of limit', 'rate_limited'],
    [45011, 'api minute-quota reach limit', 'rate_limited'],
    [45033, 'api concurrent out of limit', 'rate_limited'],
    [301055, 'no approval auth', 'permission'],
    [48002, 'api forbidden', 'permission'],
    [60011, 'no privilege to access/modify contact/party/agent', 'permission'],
    [60020, 'not allow to access from your ip', 'permission'],
    [301002, 'no permission', 'permission'],
    [46004, 'user no exist', 'not_found'],
    [60111, 'userid not found', 'not_found'],
    [301004, 'not found', 'not_found'],
    [301024, 'not found', 'not_found'],
    [301025, 'invalid apply data', 'invalid_request'],
    [40056, 'invalid agentid', 'invalid_request'],
    [40058, 'invalid parameter', 'invalid_request'],
  ] as const)(
    'classifies errcode %s (%s) as %s; only a rate limit is one',
    async (errcode, errmsg, kind) => {
      tokenOnce();
      nock(BASE)
        .post('/cgi-bin/oa/getapprovaldetail')
        .query(true)
        .reply(200, { errcode, errmsg });
      const error = await imApiError(client().readInstance('SP-1'));
      expect(error.kind).toBe(kind);
      expect(error.transient).toBe(
        kind === 'unavailable' || kind === 'rate_limited',
      );
    },
  );

  it('calls errcode -1 what WeCom says it is, busy, and tries again later', async () => {
    tokenOnce();
    nock(BASE)
      .post('/cgi-bin/oa/getapprovaldetail')
      .query(true)
      .reply(200, { errcode: -1, errmsg: 'system busy' });
    const error = await imApiError(client().readInstance('SP-1'));
    expect(error.message).toBe(
      'WeCom failed to read an approval request (code -1: system busy); retrying later',
    );
    expect(error.message).not.toMatch(/rate limit/);
  });

  it("retries a refused token once, then calls a second refusal WeCom's fault, not the credentials", async () => {
    tokenOnce('old');
    tokenOnce('new');
    nock(BASE)
      .post('/cgi-bin/oa/getapprovaldetail')
      .query(true)
      .times(2)
      .reply(200, { errcode: 42001, errmsg: 'access_token expired' });
    const error = await imApiError(client().readInstance('SP-1'));
    expect(error.kind).toBe('unavailable');
    expect(error.message).toMatch(
      /^WeCom refused the access token it had just issued when asked to read an approval request \(code 42001/,
    );
  });

  describe("the token endpoint's", () => {
    const gettoken = () => nock(BASE).get('/cgi-bin/gettoken').query(true);
    const outage =
      /^WeCom answered HTTP 50\d.* when asked to get an access token: an outage at WeCom, not a problem with the app's settings; retrying later$/;

    it.each([
      [
        'HTTP 503 with an errcode',
        () =>
          gettoken().reply(503, {
            errcode: 40001,
            errmsg: 'invalid credential',
          }),
        outage,
      ],
      [
        'HTTP 502 without JSON',
        () => gettoken().reply(502, 'Bad Gateway'),
        outage,
      ],
      [
        'a network error',
        () => gettoken().replyWithError('socket hang up'),
        /^Could not reach WeCom at https:\/\/qyapi\.wecom\.test to get an access token: socket hang up/,
      ],
      [
        'errcode -1 (system busy)',
        () => gettoken().reply(200, { errcode: -1, errmsg: 'system busy' }),
        /^WeCom failed to get an access token \(code -1: system busy\); retrying later$/,
      ],
    ])(
      '%s is an outage, tried again later, never a credentials problem',
      async (_, reply, message) => {
        reply();
        const error = await imApiError(client().verifyCredentials());
        expect(error.kind).toBe('unavailable');
        expect(error.message).toMatch(message);
        expect(error.message).not.toMatch(
          /Corp ID and the app Secret|credentials/,
        );
      },
    );

    it.each([40001, 40013, 40091, 41002, 41004])(
      'refusal %s is about the Corp ID or Secret',
      async errcode => {
        gettoken().reply(200, { errcode, errmsg: 'refused' });
        const error = await imApiError(client().verifyCredentials());
        expect(error.kind).toBe('credentials');
        expect(error.message).toMatch(
          /; check the Corp ID and the app Secret$/,
        );
      },
    );

    it('other refusals say what WeCom said, without blaming the credentials', async () => {
      gettoken().reply(200, {
        errcode: 60020,
        errmsg: 'not allow to access from your ip',
      });
      const error = await imApiError(client().verifyCredentials());
      expect(error.kind).toBe('permission');
      expect(error.message).toMatch(
        /may not get an access token \(code 60020: not allow to access from your ip; add the backend's egress IP to the app's trusted IPs\)/,
      );
    });
  });

  it('says the Corp ID or Secret is wrong when the token is refused', async () => {
    nock(BASE)
      .get('/cgi-bin/gettoken')
      .query(true)
      .reply(200, { errcode: 40001, errmsg: 'invalid credential' });
    const error = await imApiError(client().verifyCredentials());
    expect(error.kind).toBe('credentials');
    expect(error.message).toBe(
      'Invalid WeCom app credentials for app 1000002 of corp wwcorp (code 40001: invalid credential); check the Corp ID and the app Secret',
    );
  });

  it('finds people of a tenant without WeCom Mail by their own email field (email_type 2) after email_type 1 misses, once', async () => {
    tokenOnce();
    nock(BASE)
      .post('/cgi-bin/oa/gettemplatedetail')
      .query(true)
      .reply(200, template);
    nock(BASE)
      .post('/cgi-bin/user/get_userid_by_email', {
        email: 'bot@example.com',
        email_type: 1,
      })
      .query(true)
      .once()
      .reply(200, { errcode: 46004, errmsg: 'user no exist' });
    nock(BASE)
      .post('/cgi-bin/user/get_userid_by_email', {
        email: 'bot@example.com',
        email_type: 2,
      })
      .query(true)
      .once()
      .reply(200, { errcode: 0, errmsg: 'ok', userid: 'bot' });
    nock(BASE)
      .post('/cgi-bin/oa/applyevent', body => body.creator_userid === 'bot')
      .query(true)
      .twice()
      .reply(200, { errcode: 0, errmsg: 'ok', sp_no: 'SP-1' });
    const wecom = client();
    for (let i = 0; i < 2; i++) {
      await wecom.createInstance({
        approvalId: 'a',
        form: 'TPL',
        title: 't',
        fields: [],
        stages: [{ approvers: ['bob'], rule: 'any' }],
      });
    }
  });

  it('names a person nobody has and does not look them up again', async () => {
    tokenOnce();
    nock(BASE)
      .post('/cgi-bin/oa/gettemplatedetail')
      .query(true)
      .reply(200, template);
    // Neither as a WeCom Mail address nor as a member's email field; a miss is cached like a hit.
    nock(BASE)
      .post('/cgi-bin/user/get_userid_by_email', {
        email: 'bot@example.com',
        email_type: 1,
      })
      .query(true)
      .once()
      .reply(200, { errcode: 46004, errmsg: 'user no exist' });
    nock(BASE)
      .post('/cgi-bin/user/get_userid_by_email', {
        email: 'bot@example.com',
        email_type: 2,
      })
      .query(true)
      .once()
      .reply(200, { errcode: 46004, errmsg: 'user no exist' });
    const wecom = client();
    for (let i = 0; i < 2; i++) {
      const error = await imApiError(
        wecom.createInstance({
          approvalId: 'a',
          form: 'TPL',
          title: 't',
          fields: [],
          stages: [{ approvers: ['bob'], rule: 'any' }],
        }),
      );
      expect(error.message).toMatch(
        /No WeCom user with email bot@example.com is visible to app 1000002/,
      );
    }
  });

  describe('findCreated (WeCom has no idempotency key: getapprovalinfo, then apply_data)', () => {
    const request = {
      approvalId: 'a-1',
      form: 'TPL',
      title: 't',
      fields: [{ field: 'Service', value: 'api run 7' }],
      stages: [{ approvers: ['bob'], rule: 'any' as const }],
      initiator: 'bot',
    };
    const detailOf = (spNo: string, text: string) => ({
      errcode: 0,
      errmsg: 'ok',
      info: {
        sp_no: spNo,
        sp_status: 1,
        applyer: { userid: 'bot' },
        apply_data: {
          contents: [{ control: 'Text', id: 'Text-1', value: { text } }],
        },
      },
    });

    it("lists the template's requests by the creator since the first attempt, in seconds, and answers the one with this apply_data", async () => {
      tokenOnce();
      nock(BASE)
        .post('/cgi-bin/oa/gettemplatedetail')
        .query(true)
        .reply(200, template);
      const since = new Date('2026-12-01T10:00:00.900Z');
      nock(BASE)
        .post('/cgi-bin/oa/getapprovalinfo', body => {
          expect(body).toMatchObject({
            starttime: String(Math.floor(since.getTime() / 1000)),
            new_cursor: '',
            size: 100,
          });
          expect(body.filters).toEqual([
            { key: 'template_id', value: 'TPL' },
            { key: 'creator', value: 'bot' },
          ]);
          return true;
        })
        .query(true)
        .reply(200, {
          errcode: 0,
          errmsg: 'ok',
          sp_no_list: ['SP-6', 'SP-7'],
          new_next_cursor: '',
        });
      nock(BASE)
        .post('/cgi-bin/oa/getapprovaldetail', { sp_no: 'SP-6' })
        .query(true)
        .reply(200, detailOf('SP-6', 'api run 6'));
      nock(BASE)
        .post('/cgi-bin/oa/getapprovaldetail', { sp_no: 'SP-7' })
        .query(true)
        .reply(200, detailOf('SP-7', 'api run 7'));
      expect(await client().findCreated(request, since)).toEqual([
        {
          instanceId: 'SP-7',
          url: undefined,
          labels: new Map([['Service', 'Service']]),
        },
      ]);
    });

    it('answers nothing when no request matches, so the create is tried again', async () => {
      tokenOnce();
      nock(BASE)
        .post('/cgi-bin/oa/gettemplatedetail')
        .query(true)
        .reply(200, template);
      nock(BASE).post('/cgi-bin/oa/getapprovalinfo').query(true).reply(200, {
        errcode: 0,
        errmsg: 'ok',
        sp_no_list: [],
        new_next_cursor: '',
      });
      expect(await client().findCreated(request, new Date())).toEqual([]);
    });
  });

  it('looks mobiles up as WeCom keeps them: bare digits, without +86, spaces or dashes', async () => {
    tokenOnce();
    nock(BASE)
      .post('/cgi-bin/oa/gettemplatedetail')
      .query(true)
      .reply(200, template);
    nock(BASE)
      .post('/cgi-bin/user/getuserid', { mobile: '13800000001' })
      .query(true)
      .reply(200, { errcode: 0, errmsg: 'ok', userid: 'alice' });
    nock(BASE)
      .post(
        '/cgi-bin/oa/applyevent',
        body => body.process.node_list[0].userid[0] === 'alice',
      )
      .query(true)
      .reply(200, { errcode: 0, errmsg: 'ok', sp_no: 'SP-1' });
    await client().createInstance({
      approvalId: 'a',
      form: 'TPL',
      title: 't',
      fields: [],
      stages: [{ approvers: ['+86 138-0000-0001'], rule: 'any' }],
      initiator: 'bot',
    });
  });

  it('opens a request with one approver node per stage, in order: apv_rel 2 for any, 1 for all', async () => {
    tokenOnce();
    nock(BASE)
      .post('/cgi-bin/oa/gettemplatedetail')
      .query(true)
      .reply(200, template);
    let nodes: unknown;
    nock(BASE)
      .post('/cgi-bin/oa/applyevent', body => {
        nodes = body.process.node_list;
        return body.use_template_approver === 0;
      })
      .query(true)
      .reply(200, { errcode: 0, errmsg: 'ok', sp_no: 'SP-1' });
    await client().createInstance({
      approvalId: 'a',
      form: 'TPL',
      title: 't',
      fields: [{ field: 'Service', value: 'api' }],
      stages: [
        { name: 'Team lead', approvers: ['alice', 'bob'], rule: 'any' },
        { name: 'SRE', approvers: ['bob', 'carol'], rule: 'all' },
      ],
      initiator: 'bot',
    });
    expect(nodes).toEqual([
      { type: 1, apv_rel: 2, userid: ['alice', 'bob'] },
      { type: 1, apv_rel: 1, userid: ['bob', 'carol'] },
    ]);
  });

  describe('stage progress from process_list.node_list', () => {
    const names = (...userids: string[]) => {
      for (const userid of userids)
        nock(BASE)
          .get('/cgi-bin/user/get')
          .query(q => q.userid === userid)
          .reply(200, { errcode: 0, name: `${userid} name` });
    };
    const read = (spStatus: number, nodeList: object[]) => {
      tokenOnce();
      names('alice', 'bob');
      nock(BASE)
        .post('/cgi-bin/oa/getapprovaldetail')
        .query(true)
        .reply(200, {
          errcode: 0,
          info: { sp_status: spStatus, process_list: { node_list: nodeList } },
        });
      return client().readInstance('SP-1');
    };
    const sub = (userid: string, spYj: number) => ({
      userid,
      sp_yj: spYj,
      sptime: spYj === 1 ? 0 : 1763712000,
    });

    it('says which node is asked now and on whom it waits, and which wait for it', async () => {
      expect(
        await read(1, [
          {
            sp_status: 2,
            apv_rel: 2,
            sub_node_list: [sub('alice', 2), sub('bob', 1)],
          },
          {
            sp_status: 1,
            apv_rel: 1,
            sub_node_list: [sub('bob', 2), sub('carol', 1)],
          },
          { sp_status: 1, apv_rel: 2, sub_node_list: [sub('dave', 1)] },
        ]),
      ).toEqual({
        status: 'pending',
        stages: [
          {
            status: 'approved',
            approvedBy: [{ id: 'alice', name: 'alice name' }],
            waitingOn: [],
          },
          {
            status: 'pending',
            approvedBy: [{ id: 'bob', name: 'bob name' }],
            waitingOn: ['carol'],
          },
          { status: 'waiting', approvedBy: [], waitingOn: [] },
        ],
      });
    });

    it('counts sp_yj 13 (approved, an approver added) as approving its node, and shows a rejected node', async () => {
      const state = await read(3, [
        { sp_status: 2, apv_rel: 1, sub_node_list: [sub('alice', 13)] },
        {
          sp_status: 3,
          apv_rel: 2,
          sub_node_list: [sub('bob', 3), sub('carol', 1)],
        },
      ]);
      expect(state.stages).toEqual([
        {
          status: 'approved',
          approvedBy: [{ id: 'alice', name: 'alice name' }],
          waitingOn: [],
        },
        { status: 'rejected', approvedBy: [], waitingOn: [] },
      ]);
      expect(state).toMatchObject({
        status: 'rejected',
        decidedBy: { id: 'bob' },
      });
    });
  });

  describe('forms made from a spec', () => {
    const spec = {
      name: 'Release approval',
      fields: ['Service', 'Version'],
      stages: [{ rule: 'any' as const }, { rule: 'all' as const }],
    };
    const controls = [
      {
        property: {
          control: 'Text',
          id: 'Text-01',
          title: [{ text: 'Service', lang: 'zh_CN' }],
          require: 0,
        },
      },
      {
        property: {
          control: 'Text',
          id: 'Text-02',
          title: [{ text: 'Version', lang: 'zh_CN' }],
          require: 0,
        },
      },
    ];
    const templateWith = (list: object[]) => ({
      errcode: 0,
      errmsg: 'ok',
      template_names: [{ text: 'Release approval', lang: 'zh_CN' }],
      template_content: { controls: list },
    });

    it('creates a template with one text control per field, titled by its label, ids in order', async () => {
      tokenOnce();
      nock(BASE)
        .post('/cgi-bin/oa/approval/create_template', {
          template_name: [{ text: 'Release approval', lang: 'zh_CN' }],
          template_content: { controls },
        })
        .query({ access_token: 'tok-a' })
        .reply(200, { errcode: 0, errmsg: 'ok', template_id: 'C4new' });
      expect(await client().saveForm(spec)).toEqual({ formId: 'C4new' });
    });

    it('updates a template in place, keeping its id, and requests then fill the new controls without reading it again', async () => {
      tokenOnce();
      nock(BASE)
        .post('/cgi-bin/oa/approval/update_template', {
          template_id: 'C4old',
          template_name: [{ text: 'Release approval', lang: 'zh_CN' }],
          template_content: { controls },
        })
        .query(true)
        .reply(200, { errcode: 0, errmsg: 'ok' });
      let contents: unknown;
      nock(BASE)
        .post('/cgi-bin/oa/applyevent', body => {
          contents = body.apply_data.contents;
          return true;
        })
        .query(true)
        .reply(200, { errcode: 0, errmsg: 'ok', sp_no: 'SP-1' });
      const wecom = client();
      expect(await wecom.saveForm(spec, 'C4old')).toEqual({ formId: 'C4old' });
      await wecom.createInstance({
        approvalId: 'a',
        form: 'C4old',
        title: 't',
        fields: [
          { field: 'Service', value: 'api' },
          { field: 'Version', value: '2.3' },
        ],
        stages: [{ approvers: ['bob'], rule: 'any' }],
        initiator: 'bot',
      });
      expect(contents).toEqual([
        { control: 'Text', id: 'Text-01', value: { text: 'api' } },
        { control: 'Text', id: 'Text-02', value: { text: '2.3' } },
      ]);
    });

    it('calls a template WeCom does not know not found, so it can be made anew', async () => {
      tokenOnce();
      nock(BASE)
        .post('/cgi-bin/oa/approval/update_template')
        .query(true)
        .reply(200, { errcode: 40058, errmsg: 'invalid template_id C4gone' });
      nock(BASE)
        .post('/cgi-bin/oa/gettemplatedetail')
        .query(true)
        .reply(200, { errcode: 40058, errmsg: 'invalid template_id C4gone' });
      const wecom = client();
      expect((await imApiError(wecom.saveForm(spec, 'C4gone'))).kind).toBe(
        'not_found',
      );
      expect((await imApiError(wecom.formDrift(spec, 'C4gone'))).kind).toBe(
        'not_found',
      );
    });

    it('refuses with a permission error naming the Approval API list and where it is, when the app is not on it', async () => {
      tokenOnce();
      nock(BASE)
        .post('/cgi-bin/oa/approval/create_template')
        .query(true)
        .reply(200, {
          errcode: 301055,
          errmsg: 'no approval auth, hint: [1]',
        });
      const error = await imApiError(client().saveForm(spec));
      expect(error.kind).toBe('permission');
      expect(error.message).toMatch(
        /^The WeCom app 1000002 of corp wwcorp may not create approval template "Release approval" \(code 301055: .*the app must be allowed to call the Approval API: in the WeCom admin console, open the Approval app → API and add the app to "apps that may call the API"\)/,
      );
    });

    it('finds no drift in a template as made, and one sentence per control missing, renamed or required and not filled', async () => {
      tokenOnce();
      nock(BASE)
        .post('/cgi-bin/oa/gettemplatedetail', { template_id: 'C4t' })
        .query(true)
        .reply(200, templateWith(controls));
      nock(BASE)
        .post('/cgi-bin/oa/gettemplatedetail', { template_id: 'C4t' })
        .query(true)
        .reply(
          200,
          templateWith([
            {
              property: {
                ...controls[0].property,
                title: [{ text: 'Component', lang: 'zh_CN' }],
              },
            },
            {
              property: {
                control: 'Textarea',
                id: 'Textarea-9',
                title: [{ text: 'Risk', lang: 'zh_CN' }],
                require: 1,
              },
            },
          ]),
        );
      const wecom = client();
      expect(await wecom.formDrift(spec, 'C4t')).toEqual([]);
      // Read afresh each time: an administrator may have edited it since.
      expect(await wecom.formDrift(spec, 'C4t')).toEqual([
        'field "Service" (control Text-01) was renamed to "Component" in WeCom',
        'field "Version" (control Text-02) is missing from WeCom template C4t',
        'WeCom template C4t has a required control "Risk" (Textarea-9) that the template does not fill',
      ]);
    });
  });
});

describe('context, test marking and CC on a WeCom request', () => {
  const contextTemplate = {
    ...template,
    template_content: {
      controls: [
        ...template.template_content.controls,
        {
          property: {
            control: 'Textarea',
            id: 'Textarea-3',
            title: [{ text: 'Context', lang: 'zh_CN' }],
            require: 0,
          },
        },
      ],
    },
  };

  const created = (request: Partial<ImInstanceRequest>) =>
    applyeventBody(contextTemplate, { title: '[Test] Deploy api', ...request });

  const context: ImContextLine[] = [
    { kind: 'requester', label: 'Requested by', value: 'Alice Chen' },
    { kind: 'repository', label: 'Repository', value: 'acme/api' },
    { kind: 'ref', label: 'Ref', value: 'main' },
    {
      kind: 'run',
      label: 'Run',
      value: '#42',
      url: 'https://github.com/acme/api/runs/42',
    },
  ];

  it('fills the "Context" control with one line per context line, and sums up title, requester and repository@ref', async () => {
    const body = await created({ context, test: true });
    expect(body.apply_data.contents).toContainEqual({
      control: 'Textarea',
      id: 'Textarea-3',
      value: {
        text: 'Requested by: Alice Chen\nRepository: acme/api\nRef: main\nRun: #42 https://github.com/acme/api/runs/42',
      },
    });
    expect(
      body.summary_list.map((line: any) => line.summary_info[0].text),
    ).toEqual(['测试/TEST Deploy api', 'Alice Chen', 'acme/api@main']);
  });

  it('keeps each context line one line: newlines and NUL from outside become spaces, in the control and the summary', async () => {
    const body = await created({
      context: [
        {
          kind: 'requester',
          label: 'Requested by',
          value: 'Eve\nApproved: yes',
        },
        { kind: 'repository', label: 'Repository', value: 'acme/api' },
        { kind: 'ref', label: 'Ref', value: 'ma\u0000in' },
      ],
    });
    expect(
      body.apply_data.contents.find((c: any) => c.id === 'Textarea-3').value
        .text,
    ).toBe('Requested by: Eve Approved: yes\nRepository: acme/api\nRef: ma in');
    expect(
      body.summary_list.map((line: any) => line.summary_info[0].text),
    ).toEqual(['[Test] Deploy api', 'Eve Approved: yes', 'acme/api@ma in']);
  });

  it('leaves a "Context" control the template fills itself alone', async () => {
    const body = await created({
      context,
      fields: [
        { field: 'Service', value: 'api' },
        { field: 'Context', value: 'mapped' },
      ],
    });
    expect(
      body.apply_data.contents.filter((c: any) => c.id === 'Textarea-3'),
    ).toEqual([
      { control: 'Textarea', id: 'Textarea-3', value: { text: 'mapped' } },
    ]);
  });

  it('sends CC recipients as a node of type 2 after the approver nodes', async () => {
    const body = await created({ cc: ['carol', 'dave', 'carol'] });
    expect(body.process.node_list).toEqual([
      { type: 1, apv_rel: 2, userid: ['bob'] },
      { type: 2, userid: ['carol', 'dave'] },
    ]);
  });

  it('looks CC recipients given by mobile up like approvers, and sends their userids', async () => {
    nock(BASE)
      .post('/cgi-bin/user/getuserid', { mobile: '13800000003' })
      .query(true)
      .reply(200, { errcode: 0, userid: 'carol' });
    const body = await created({ cc: ['13800000003'] });
    expect(body.process.node_list.at(-1)).toEqual({
      type: 2,
      userid: ['carol'],
    });
  });
});

describe('WecomClient app messages', () => {
  it('escapes the text, makes only the link a link, and names members WeCom did not reach', async () => {
    tokenOnce();
    let sent: any;
    nock(BASE)
      .post('/cgi-bin/message/send', body => {
        sent = body;
        return true;
      })
      .query({ access_token: 'tok-a' })
      .reply(200, {
        errcode: 0,
        errmsg: 'ok',
        invaliduser: 'ghost',
        unlicenseduser: '',
        msgid: 'm1',
      });
    await expect(
      client().sendMessage(
        ['alice', 'ghost'],
        'Reminder: "<a href=x>" & more',
        'https://i.example/1?a=1&b=2',
      ),
    ).rejects.toMatchObject({
      kind: 'invalid_request',
      message: expect.stringContaining('WeCom did not deliver to ghost'),
    });
    expect(sent).toEqual({
      touser: 'alice|ghost',
      msgtype: 'text',
      agentid: 1000002,
      text: {
        content:
          'Reminder: "&lt;a href=x&gt;" &amp; more\n<a href="https://i.example/1?a=1&amp;b=2">https://i.example/1?a=1&amp;b=2</a>',
      },
    });
  });
});

describe('WecomClient group chat cards', () => {
  const card = {
    approvalId: 'a1',
    title: 'Deploy api',
    test: false,
    context: [],
    fields: [],
    state: 'pending' as const,
    waitingOn: ['Alice Chen'],
    instanceUrl: 'https://im.example/SP-1',
  };

  it('sends a textcard to the app’s chat linking to the request, tells the end in a text, and retells no progress', async () => {
    tokenOnce();
    const sent: any[] = [];
    nock(BASE)
      .post('/cgi-bin/appchat/send', body => {
        sent.push(body);
        return true;
      })
      .query({ access_token: 'tok-a' })
      .times(2)
      .reply(200, { errcode: 0, errmsg: 'ok' });
    const wecom = client();
    await expect(wecom.postCard('releaseroom', card)).resolves.toBe(
      'releaseroom',
    );
    await wecom.updateCard('releaseroom', card);
    await wecom.updateCard('releaseroom', {
      ...card,
      state: 'approved',
      outcome: 'Approved by Alice Chen at 2026-12-04 10:02 UTC',
    });
    expect(sent).toEqual([
      {
        chatid: 'releaseroom',
        msgtype: 'textcard',
        textcard: expect.objectContaining({
          title: 'Deploy api',
          url: 'https://im.example/SP-1',
        }),
      },
      {
        chatid: 'releaseroom',
        msgtype: 'text',
        text: {
          content: 'Deploy api: Approved by Alice Chen at 2026-12-04 10:02 UTC',
        },
      },
    ]);
  });

  it('names WeCom’s refusal of a chat the app did not create', async () => {
    tokenOnce();
    nock(BASE)
      .post('/cgi-bin/appchat/send')
      .query(true)
      .reply(200, { errcode: 86003, errmsg: 'chat not exist' });
    await expect(client().postCard('theirs', card)).rejects.toMatchObject({
      message: expect.stringContaining('86003'),
    });
  });
});
