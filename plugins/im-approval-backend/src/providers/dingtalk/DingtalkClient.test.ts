import { mockServices } from '@backstage/backend-test-utils';
import { dingtalkIntegrationSchema } from '@im-approval/plugin-im-approval-common';
import { WxBizMsgCrypt } from '@im-approval/plugin-im-approval-node';
import nock from 'nock';
import { imApiError, useNock } from '../__testUtils__/providerTestUtils';
import { DingtalkClient, dingtalkDecidedAt } from './DingtalkClient';
import { dingtalkInstanceStatus } from './dingtalkStatus';

const API = 'https://api.dingtalk.test';
const OAPI = 'https://oapi.dingtalk.test';

const integration = dingtalkIntegrationSchema.parse({
  id: 'dingtalk-test',
  provider: 'dingtalk',
  baseUrl: API,
  legacyBaseUrl: OAPI,
  appKey: 'dingappkey',
  appSecret: 'app-secret',
  connectionMode: 'poll',
  agentId: 3001,
  initiator: 'bot',
});

function client() {
  return new DingtalkClient(integration, {
    logger: mockServices.logger.mock(),
    callbackMaxAgeSeconds: 300,
    keepToRateLimits: true,
  });
}

function tokenOnce(token = 'tok-1') {
  return nock(API)
    .post('/v1.0/oauth2/accessToken', {
      appKey: 'dingappkey',
      appSecret: 'app-secret',
    })
    .reply(200, { accessToken: token, expireIn: 7200 });
}

function instance(result: object) {
  return { result: { status: 'RUNNING', operationRecords: [], ...result } };
}

const form = {
  result: {
    schemaContent: {
      items: [
        {
          componentName: 'TextField',
          props: { id: 'TextField_service', label: 'Service', required: true },
        },
        {
          componentName: 'TextareaField',
          props: { id: 'TextareaField_reason', label: 'Reason' },
        },
        { componentName: 'TextNote', props: { content: 'no id: not a field' } },
      ],
    },
  },
};

useNock();

describe('DingtalkClient', () => {
  it('fetches one token for many concurrent calls and sends it in x-acs-dingtalk-access-token', async () => {
    tokenOnce();
    nock(API)
      .get('/v1.0/workflow/processInstances')
      .query({ processInstanceId: /PI-\d/ })
      .matchHeader('x-acs-dingtalk-access-token', 'tok-1')
      .times(5)
      .reply(200, instance({}));
    const dingtalk = client();
    const states = await Promise.all(
      [1, 2, 3, 4, 5].map(i => dingtalk.readInstance(`PI-${i}`)),
    );
    expect(states).toEqual(Array(5).fill({ status: 'pending' }));
  });

  it('fetches a new token once when DingTalk refuses the cached one, and uses it for the legacy API too', async () => {
    tokenOnce('old');
    nock(API)
      .get('/v1.0/workflow/processInstances')
      .query(true)
      .matchHeader('x-acs-dingtalk-access-token', 'old')
      .reply(200, instance({}));
    nock(API)
      .get('/v1.0/workflow/processInstances')
      .query(true)
      .matchHeader('x-acs-dingtalk-access-token', 'old')
      .reply(401, { code: 'InvalidAuthentication', message: 'token expired' });
    tokenOnce('new');
    nock(API)
      .get('/v1.0/workflow/processInstances')
      .query(true)
      .matchHeader('x-acs-dingtalk-access-token', 'new')
      .reply(200, instance({}));
    nock(OAPI)
      .post('/topapi/v2/user/getbymobile', { mobile: '13800000001' })
      .query({ access_token: 'new' })
      .reply(200, { errcode: 0, result: { userid: 'alice' } });
    nock(OAPI)
      .post('/topapi/v2/user/getbymobile', { mobile: '13800000002' })
      .query({ access_token: 'new' })
      .reply(200, { errcode: 0, result: { userid: 'bob' } });
    nock(API)
      .get('/v1.0/workflow/forms/schemas/processCodes')
      .query({ processCode: 'PROC' })
      .reply(200, form);
    nock(API)
      .post('/v1.0/workflow/processInstances', body => {
        expect(body).toEqual({
          originatorUserId: 'bot',
          processCode: 'PROC',
          formComponentValues: [
            { id: 'TextField_service', name: 'Service', value: 'api' },
          ],
          approvers: [{ actionType: 'AND', userIds: ['alice', 'bob'] }],
          microappAgentId: 3001,
        });
        return true;
      })
      .reply(200, { instanceId: 'PI-new' });

    const dingtalk = client();
    await dingtalk.readInstance('PI-1');
    await dingtalk.readInstance('PI-2');
    const created = await dingtalk.createInstance({
      approvalId: 'a-1',
      form: 'PROC',
      title: 't',
      fields: [{ field: 'Service', value: 'api' }],
      stages: [{ approvers: ['13800000001', '13800000002'], rule: 'all' }],
    });
    expect(created.instanceId).toBe('PI-new');
  });

  it.each([
    [['alice', 'bob'], 'any', 'OR'],
    [['alice', 'bob'], 'all', 'AND'],
    [['alice'], 'all', 'NONE'],
  ] as const)(
    'sends approvers %j with rule %s as %s',
    async (approvers, approverMode, actionType) => {
      tokenOnce();
      nock(API)
        .get('/v1.0/workflow/forms/schemas/processCodes')
        .query(true)
        .reply(200, form);
      nock(API)
        .post(
          '/v1.0/workflow/processInstances',
          body =>
            body.approvers[0].actionType === actionType &&
            body.originatorUserId === 'bot',
        )
        .reply(200, { instanceId: 'PI-1' });
      await client().createInstance({
        approvalId: 'a',
        form: 'PROC',
        title: 't',
        fields: [{ field: 'TextareaField_reason', value: 'r' }],
        stages: [{ approvers: [...approvers], rule: approverMode }],
      });
    },
  );

  it("answers each component's label, as approvers see it, by the field as the template names it", async () => {
    tokenOnce();
    nock(API)
      .get('/v1.0/workflow/forms/schemas/processCodes')
      .query(true)
      .reply(200, form);
    nock(API)
      .post('/v1.0/workflow/processInstances')
      .reply(200, { instanceId: 'PI-1' });
    const created = await client().createInstance({
      approvalId: 'a',
      form: 'PROC',
      title: 't',
      fields: [
        { field: 'Service', value: 'api' },
        { field: 'TextareaField_reason', value: 'r' },
      ],
      stages: [{ approvers: ['alice'], rule: 'any' }],
    });
    expect(created.labels).toEqual(
      new Map([
        ['Service', 'Service'],
        ['TextareaField_reason', 'Reason'],
      ]),
    );
  });

  it('names the form fields when a template maps one the form does not have', async () => {
    tokenOnce();
    nock(API)
      .get('/v1.0/workflow/forms/schemas/processCodes')
      .query(true)
      .reply(200, form);
    const error = await imApiError(
      client().createInstance({
        approvalId: 'a',
        form: 'PROC',
        title: 't',
        fields: [{ field: 'Owner', value: 'x' }],
        stages: [{ approvers: ['alice'], rule: 'any' }],
      }),
    );
    expect(error.message).toBe(
      'DingTalk form "PROC" has no field "Owner" (fields: Service, Reason)',
    );
  });

  it('reads the approver and remark of an approved instance from its operation records', async () => {
    tokenOnce();
    nock(API)
      .get('/v1.0/workflow/processInstances')
      .query({ processInstanceId: 'PI-1' })
      .reply(
        200,
        instance({
          status: 'COMPLETED',
          result: 'agree',
          operationRecords: [
            {
              userId: 'bot',
              date: '2026-11-21T08:00Z',
              type: 'START_PROCESS_INSTANCE',
              result: 'NONE',
            },
            {
              userId: 'alice',
              date: '2026-11-21T08:05Z',
              type: 'EXECUTE_TASK_NORMAL',
              result: 'AGREE',
              remark: 'ship it',
            },
          ],
        }),
      );
    nock(OAPI)
      .post('/topapi/v2/user/get', { userid: 'alice' })
      .query(true)
      .reply(200, { errcode: 0, result: { name: 'Alice Chen' } });
    expect(await client().readInstance('PI-1')).toEqual({
      status: 'approved',
      decidedBy: { id: 'alice', name: 'Alice Chen' },
      comment: 'ship it',
      // Read long after: the minute's last instant, not its start.
      decidedAt: new Date('2026-11-21T08:05:59.999Z'),
    });
  });

  it('reads a task handed on (REDIRECT_TASK) and approvers added (APPEND_TASK_BEFORE) with who did it and their remark; DingTalk does not say to whom', async () => {
    tokenOnce();
    nock(API)
      .get('/v1.0/workflow/processInstances')
      .query({ processInstanceId: 'PI-1' })
      .reply(
        200,
        instance({
          status: 'COMPLETED',
          result: 'agree',
          operationRecords: [
            {
              userId: 'bob',
              date: '2026-11-21T08:01Z',
              type: 'REDIRECT_TASK',
              result: 'NONE',
              remark: 'on leave',
            },
            {
              userId: 'carol',
              date: '2026-11-21T08:03Z',
              type: 'APPEND_TASK_BEFORE',
              result: 'NONE',
            },
            {
              userId: 'carol',
              date: '2026-11-21T08:05Z',
              type: 'EXECUTE_TASK_NORMAL',
              result: 'AGREE',
            },
          ],
        }),
      );
    for (const [userId, name] of [
      ['bob', 'Bob Li'],
      ['carol', 'Carol Wu'],
    ]) {
      nock(OAPI)
        .post('/topapi/v2/user/get', { userid: userId })
        .query(true)
        .reply(200, { errcode: 0, result: { name } });
    }
    expect(await client().readInstance('PI-1')).toMatchObject({
      status: 'approved',
      decidedBy: { id: 'carol', name: 'Carol Wu' },
      handovers: [
        {
          kind: 'transferred',
          from: { id: 'bob', name: 'Bob Li' },
          to: [],
          comment: 'on leave',
        },
        { kind: 'added', from: { id: 'carol', name: 'Carol Wu' }, to: [] },
      ],
    });
  });

  it('falls back to the user id when the approver cannot be read', async () => {
    tokenOnce();
    nock(API)
      .get('/v1.0/workflow/processInstances')
      .query(true)
      .reply(
        200,
        instance({
          status: 'COMPLETED',
          result: 'refuse',
          operationRecords: [
            {
              userId: 'bob',
              type: 'EXECUTE_TASK_NORMAL',
              result: 'REFUSE',
              remark: 'no',
            },
          ],
        }),
      );
    nock(OAPI)
      .post('/topapi/v2/user/get')
      .query(true)
      .reply(200, { errcode: 60011, errmsg: 'no permission' });
    expect(await client().readInstance('PI-1')).toMatchObject({
      status: 'rejected',
      decidedBy: { id: 'bob', name: 'bob' },
      comment: 'no',
    });
  });

  it('maps status and result: approved only when COMPLETED and agree', () => {
    expect(dingtalkInstanceStatus('NEW', undefined)).toBe('pending');
    expect(dingtalkInstanceStatus('RUNNING', 'agree')).toBe('pending');
    expect(dingtalkInstanceStatus('COMPLETED', 'agree')).toBe('approved');
    expect(dingtalkInstanceStatus('COMPLETED', 'refuse')).toBe('rejected');
    expect(dingtalkInstanceStatus('COMPLETED', undefined)).toBeUndefined();
    expect(dingtalkInstanceStatus('TERMINATED', undefined)).toBe('canceled');
    expect(dingtalkInstanceStatus('CANCELED', undefined)).toBe('canceled');
    expect(dingtalkInstanceStatus('FINISHED', 'agree')).toBeUndefined();
  });

  it('terminates a pending instance with the reason as its remark, and reports an already decided one without calling terminate', async () => {
    tokenOnce();
    nock(API)
      .get('/v1.0/workflow/processInstances')
      .query({ processInstanceId: 'PI-1' })
      .reply(200, instance({}));
    nock(API)
      .post('/v1.0/workflow/processInstances/terminate', {
        processInstanceId: 'PI-1',
        isSystem: true,
        remark: 'Canceled in Backstage',
      })
      .reply(200, { result: true });
    nock(API)
      .get('/v1.0/workflow/processInstances')
      .query({ processInstanceId: 'PI-2' })
      .reply(200, instance({ status: 'COMPLETED', result: 'agree' }));
    nock(API)
      .get('/v1.0/workflow/processInstances')
      .query({ processInstanceId: 'PI-3' })
      .reply(200, instance({}));
    // A reason, when there is one, is the remark approvers see on the terminated request.
    nock(API)
      .post('/v1.0/workflow/processInstances/terminate', {
        processInstanceId: 'PI-3',
        isSystem: true,
        remark: '2 of 3 approved Reviewers',
      })
      .reply(200, { result: true });
    const dingtalk = client();
    expect(await dingtalk.cancelInstance('PI-1')).toEqual({ revoked: true });
    expect(
      await dingtalk.cancelInstance('PI-3', '2 of 3 approved Reviewers'),
    ).toEqual({ revoked: true });
    expect(await dingtalk.cancelInstance('PI-2')).toEqual({
      revoked: false,
      message: 'the DingTalk instance is already COMPLETED',
    });
  });

  it.each([
    [
      403,
      {
        code: 'Forbidden.AccessDenied.AccessTokenPermissionDenied',
        message: 'no Workflow.Instance.Read',
      },
      'permission',
      /may not read an approval instance .*grant the permission/,
    ],
    [
      429,
      { code: 'Throttling.Api', message: 'too fast' },
      'rate_limited',
      /rate limit reached while trying to read an approval instance \(code Throttling.Api: too fast\); retrying later/,
    ],
    [
      400,
      { code: 'InvalidParameter', message: 'bad id' },
      'invalid_request',
      /DingTalk refused to read an approval instance \(code InvalidParameter: bad id\)/,
    ],
    [
      503,
      { code: 'ServiceUnavailable', message: 'busy' },
      'unavailable',
      /retrying later/,
    ],
  ] as const)(
    'maps HTTP %s to a %s error a person can act on',
    async (status, body, kind, message) => {
      tokenOnce();
      nock(API)
        .get('/v1.0/workflow/processInstances')
        .query(true)
        .reply(status, body);
      const error = await imApiError(client().readInstance('PI-1'));
      expect(error.kind).toBe(kind);
      expect(error.message).toMatch(message);
    },
  );

  it.each([
    [
      500,
      {
        code: 'InternalError',
        message: 'internal error, it is recommended to try again',
      },
      'unavailable',
    ],
    [400, { code: 'ServiceUnavailable', message: 'try again' }, 'unavailable'],
    [400, { code: 'SystemBusy', message: 'busy' }, 'unavailable'],
    [429, { code: 'Throttling', message: 'too fast' }, 'rate_limited'],
    [
      403,
      { code: 'Forbidden.AccessDenied.IpNotInWhiteList', message: 'ip' },
      'permission',
    ],
    [404, { code: 'resource.not.found', message: 'gone' }, 'not_found'],
    [
      400,
      { code: 'processInstanceId.notExist', message: 'no such instance' },
      'not_found',
    ],
    [400, { code: 'InvalidParameter', message: 'bad id' }, 'invalid_request'],
  ] as const)(
    'classifies new-API HTTP %s %j as %s',
    async (status, body, kind) => {
      tokenOnce();
      nock(API)
        .get('/v1.0/workflow/processInstances')
        .query(true)
        .reply(status, body);
      const error = await imApiError(client().readInstance('PI-1'));
      expect(error.kind).toBe(kind);
      expect(error.transient).toBe(
        kind === 'unavailable' || kind === 'rate_limited',
      );
    },
  );

  it.each([
    [-1, '系统繁忙', 'unavailable'],
    [90002, 'calls temporarily disabled', 'rate_limited'],
    [90006, 'calls temporarily disabled', 'rate_limited'],
    [90018, 'calls temporarily disabled', 'rate_limited'],
    [60011, 'no permission', 'permission'],
    [60020, 'ip not in whitelist', 'permission'],
    [88, 'auth exception', 'permission'],
    [40035, 'invalid parameter', 'invalid_request'],
  ] as const)(
    'classifies legacy-API errcode %s (%s) as %s',
    async (errcode, errmsg, kind) => {
      tokenOnce();
      nock(API)
        .get('/v1.0/workflow/forms/schemas/processCodes')
        .query(true)
        .reply(200, form);
      nock(OAPI)
        .post('/topapi/v2/user/getbymobile')
        .query(true)
        .reply(200, { errcode, errmsg });
      const error = await imApiError(
        client().createInstance({
          approvalId: 'a',
          form: 'PROC',
          title: 't',
          fields: [],
          stages: [{ approvers: ['13900000000'], rule: 'any' }],
        }),
      );
      expect(error.kind).toBe(kind);
      expect(error.transient).toBe(
        kind === 'unavailable' || kind === 'rate_limited',
      );
    },
  );

  it("retries a refused token once, then calls a second refusal DingTalk's fault, not the credentials", async () => {
    tokenOnce('tok-1');
    tokenOnce('tok-2');
    nock(API)
      .get('/v1.0/workflow/processInstances')
      .query(true)
      .times(2)
      .reply(401, { code: 'InvalidAuthentication', message: 'token expired' });
    const error = await imApiError(client().readInstance('PI-1'));
    expect(error.kind).toBe('unavailable');
    expect(error.message).toBe(
      'DingTalk refused the access token it had just issued when asked to read an approval instance (code InvalidAuthentication: token expired); retrying later',
    );
  });

  describe("the token endpoint's", () => {
    const accessToken = () => nock(API).post('/v1.0/oauth2/accessToken');

    it.each([
      [
        'HTTP 503',
        () =>
          accessToken().reply(503, {
            code: 'ServiceUnavailable',
            message: 'busy',
          }),
        /^DingTalk answered HTTP 503 \(code ServiceUnavailable: busy\) when asked to get an access token: an outage at DingTalk, not a problem with the app's settings; retrying later$/,
      ],
      [
        'HTTP 500 without JSON',
        () => accessToken().reply(500, 'oops'),
        /^DingTalk answered HTTP 500 when asked to get an access token: an outage at DingTalk/,
      ],
      [
        'a network error',
        () => accessToken().replyWithError('getaddrinfo ENOTFOUND'),
        /^Could not reach DingTalk at https:\/\/api\.dingtalk\.test to get an access token: getaddrinfo ENOTFOUND/,
      ],
      [
        'an internal error with a 4xx',
        () =>
          accessToken().reply(400, {
            code: 'InternalError',
            message: 'try again',
          }),
        /^DingTalk failed to get an access token \(code InternalError: try again\); retrying later$/,
      ],
    ])(
      '%s is an outage, tried again later, never a credentials problem',
      async (_, reply, message) => {
        reply();
        const error = await imApiError(client().verifyCredentials());
        expect(error.kind).toBe('unavailable');
        expect(error.message).toMatch(message);
        expect(error.message).not.toMatch(/AppKey|credentials/);
      },
    );

    it('throttling is a rate limit', async () => {
      accessToken().reply(429, { code: 'Throttling.Api', message: 'too fast' });
      expect((await imApiError(client().verifyCredentials())).kind).toBe(
        'rate_limited',
      );
    });

    it('refusals other than of the AppKey or AppSecret say what DingTalk said, without blaming the credentials', async () => {
      accessToken().reply(403, {
        code: 'Forbidden.AccessDenied.IpNotInWhiteList',
        message: 'ip not allowed',
      });
      accessToken().reply(400, {
        code: 'MissingParameter',
        message: 'appKey is required',
      });
      const forbidden = await imApiError(client().verifyCredentials());
      expect(forbidden.kind).toBe('permission');
      const other = await imApiError(client().verifyCredentials());
      expect([other.kind, other.message]).toEqual([
        'invalid_request',
        'DingTalk refused to get an access token (code MissingParameter: appKey is required)',
      ]);
    });
  });

  it('says the app credentials are wrong when the token is refused', async () => {
    nock(API)
      .post('/v1.0/oauth2/accessToken')
      .reply(400, { code: 'invalidClientIdOrSecret', message: 'unknown app' });
    const error = await imApiError(client().verifyCredentials());
    expect(error.kind).toBe('credentials');
    expect(error.message).toBe(
      'Invalid DingTalk app credentials for app dingappkey (code invalidClientIdOrSecret: unknown app); check the AppKey (Client ID) and AppSecret (Client Secret)',
    );
  });

  it('names a mobile nobody has, caches the miss, and refuses email approvers', async () => {
    tokenOnce();
    nock(API)
      .get('/v1.0/workflow/forms/schemas/processCodes')
      .query(true)
      .reply(200, form);
    nock(OAPI)
      .post('/topapi/v2/user/getbymobile', { mobile: '13900000000' })
      .query(true)
      .once()
      .reply(200, { errcode: 60121, errmsg: 'user not found' });
    const dingtalk = client();
    const request = {
      approvalId: 'a',
      form: 'PROC',
      title: 't',
      fields: [],
      stages: [{ approvers: ['13900000000'], rule: 'any' as const }],
    };
    for (let i = 0; i < 2; i++) {
      const error = await imApiError(dingtalk.createInstance(request));
      expect(error.kind).toBe('not_found');
      expect(error.message).toMatch(
        /No DingTalk user with mobile 13900000000 is visible to app dingappkey/,
      );
    }
    const email = await imApiError(
      dingtalk.createInstance({
        ...request,
        stages: [{ approvers: ['alice@example.com'], rule: 'any' }],
      }),
    );
    expect(email.kind).toBe('not_found');
    expect(email.message).toMatch(
      /DingTalk cannot look people up by email \(alice@example.com\)/,
    );
    // Looked up ahead (catalog people), an email is nobody DingTalk knows, not a failure.
    expect(await dingtalk.findUsers(['alice@example.com', 'bob'])).toEqual([
      undefined,
      'bob',
    ]);
  });

  describe('findCreated (DingTalk has no idempotency key: ListProcessInstanceIds, then the form values)', () => {
    const request = {
      approvalId: 'a-1',
      form: 'PROC',
      title: 't',
      fields: [{ field: 'Service', value: 'api run 7' }],
      stages: [{ approvers: ['alice'], rule: 'any' as const }],
    };

    it("lists the form's instances by the initiator since the first attempt, in milliseconds, and answers the one with these form values", async () => {
      tokenOnce();
      nock(API)
        .get('/v1.0/workflow/forms/schemas/processCodes')
        .query(true)
        .reply(200, form);
      const since = new Date('2026-12-01T10:00:00.123Z');
      nock(API)
        .post(
          '/v1.0/workflow/processes/instanceIds/query',
          body =>
            body.processCode === 'PROC' &&
            body.startTime === since.getTime() &&
            body.maxResults <= 20 &&
            body.nextToken === 0 &&
            body.userIds[0] === 'bot',
        )
        .reply(200, {
          success: true,
          result: { list: ['PI-other', 'PI-mine'] },
        });
      nock(API)
        .get('/v1.0/workflow/processInstances')
        .query({ processInstanceId: 'PI-other' })
        .reply(
          200,
          instance({
            originatorUserId: 'bot',
            formComponentValues: [
              { id: 'TextField_service', name: 'Service', value: 'api run 6' },
            ],
          }),
        );
      nock(API)
        .get('/v1.0/workflow/processInstances')
        .query({ processInstanceId: 'PI-mine' })
        .reply(
          200,
          instance({
            originatorUserId: 'bot',
            formComponentValues: [
              { id: 'TextField_service', name: 'Service', value: 'api run 7' },
            ],
          }),
        );
      expect(await client().findCreated(request, since)).toEqual([
        {
          instanceId: 'PI-mine',
          url: undefined,
          labels: new Map([['Service', 'Service']]),
        },
      ]);
    });

    it('answers nothing when no instance has these values, so the create is tried again', async () => {
      tokenOnce();
      nock(API)
        .get('/v1.0/workflow/forms/schemas/processCodes')
        .query(true)
        .reply(200, form);
      nock(API)
        .post('/v1.0/workflow/processes/instanceIds/query')
        .reply(200, { success: true, result: { list: [] } });
      expect(await client().findCreated(request, new Date())).toEqual([]);
    });
  });

  describe('decision times (the new API writes dates to the minute, "2026-12-01T10:30Z")', () => {
    it("takes the moment the decision was learned within its minute, never the minute's start", () => {
      expect(
        dingtalkDecidedAt(
          '2026-12-01T10:30Z',
          new Date('2026-12-01T10:30:42.250Z'),
        ),
      ).toEqual(new Date('2026-12-01T10:30:42.250Z'));
    });
    it("takes the minute's last instant when learned later (the reconciler)", () => {
      expect(
        dingtalkDecidedAt(
          '2026-12-01T10:30Z',
          new Date('2026-12-01T10:35:00Z'),
        ),
      ).toEqual(new Date('2026-12-01T10:30:59.999Z'));
    });
    it('keeps a date with seconds as DingTalk wrote it, and the learned moment without a date', () => {
      expect(
        dingtalkDecidedAt(
          '2026-12-01T10:30:17Z',
          new Date('2026-12-01T10:35:00Z'),
        ),
      ).toEqual(new Date('2026-12-01T10:30:17Z'));
      expect(
        dingtalkDecidedAt(undefined, new Date('2026-12-01T10:35:00Z')),
      ).toEqual(new Date('2026-12-01T10:35:00Z'));
      expect(
        dingtalkDecidedAt('not a date', new Date('2026-12-01T10:35:00Z')),
      ).toEqual(new Date('2026-12-01T10:35:00Z'));
    });
  });

  it('looks mobiles up as DingTalk keeps them: bare digits, without +86, spaces or dashes', async () => {
    tokenOnce();
    nock(API)
      .get('/v1.0/workflow/forms/schemas/processCodes')
      .query(true)
      .reply(200, form);
    nock(OAPI)
      .post('/topapi/v2/user/getbymobile', { mobile: '13800000001' })
      .query(true)
      .reply(200, { errcode: 0, result: { userid: 'alice' } });
    nock(OAPI)
      .post('/topapi/v2/user/getbymobile', { mobile: '13800000002' })
      .query(true)
      .reply(200, { errcode: 0, result: { userid: 'bob' } });
    nock(OAPI)
      .post('/topapi/v2/user/getbymobile', { mobile: '+85261234567' })
      .query(true)
      .reply(200, { errcode: 0, result: { userid: 'carol' } });
    nock(API)
      .post(
        '/v1.0/workflow/processInstances',
        body =>
          JSON.stringify(body.approvers[0].userIds) ===
          JSON.stringify(['alice', 'bob', 'carol']),
      )
      .reply(200, { instanceId: 'PI-1' });
    await client().createInstance({
      approvalId: 'a',
      form: 'PROC',
      title: 't',
      fields: [{ field: 'Service', value: 'api' }],
      stages: [
        {
          approvers: [
            '+86 138-0000-0001',
            '0086 138 0000 0002',
            '+852 6123-4567',
          ],
          rule: 'any',
        },
      ],
    });
  });

  it('checks callbacks against the receiveId option (the CorpId of an older registration), else the AppKey', async () => {
    const aesKey = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';
    const withReceiveId = (receiveId?: string) =>
      new DingtalkClient(
        dingtalkIntegrationSchema.parse({
          ...integration,
          connectionMode: 'callback',
          token: 'cb',
          aesKey,
          ...(receiveId ? { receiveId } : {}),
        }),
        {
          logger: mockServices.logger.mock(),
          callbackMaxAgeSeconds: 300,
          keepToRateLimits: true,
        },
      );
    const sealed = new WxBizMsgCrypt({
      token: 'cb',
      encodingAesKey: aesKey,
      receiveId: 'dingcorp',
    }).seal('{"EventType":"check_url"}', String(Date.now()), 'n');
    const callback = {
      method: 'POST',
      headers: {},
      query: {
        signature: sealed.signature,
        timestamp: sealed.timestamp,
        nonce: sealed.nonce,
      },
      rawBody: Buffer.from(JSON.stringify({ encrypt: sealed.encrypt })),
    };
    await expect(
      withReceiveId('dingcorp').handleCallback(callback),
    ).resolves.toMatchObject({ events: [] });
    await expect(
      withReceiveId().handleCallback(callback),
    ).rejects.toMatchObject({ status: 400 });
  });

  it.each([
    [
      'this app over its limit for the API',
      'Forbidden.AccessDenied.QpsLimitForAppkeyAndApi',
    ],
    [
      "all of DingTalk's callers over the API's limit",
      'Forbidden.AccessDenied.QpsLimitForApi',
    ],
  ])(
    "reads the new API's flow control (HTTP 403, %s) as a rate limit, not a permission",
    async (_, code) => {
      tokenOnce();
      nock(API)
        .get('/v1.0/workflow/processInstances')
        .query(true)
        .reply(403, { code, message: '调用该接口触发了限流' });
      const error = await imApiError(client().readInstance('PI-1'));
      expect(error.kind).toBe('rate_limited');
      expect(error.transient).toBe(true);
    },
  );
});

describe('DingtalkClient stages and forms it makes', () => {
  const spec = {
    name: 'deploy-staged',
    description: 'Staged deployments',
    fields: ['Service', 'Run'],
    stages: [
      { name: 'Team lead', rule: 'any' as const },
      { rule: 'all' as const },
    ],
  };
  const savedSchema = (items: object[]) => ({
    result: { schemaContent: { items } },
  });
  const textarea = (id: string, label: string, required = false) => ({
    componentName: 'TextareaField',
    props: { id, label, required },
  });
  const userName = (userId: string, name: string) =>
    nock(OAPI)
      .post('/topapi/v2/user/get', { userid: userId })
      .query(true)
      .reply(200, { errcode: 0, result: { name } });

  it('sends one approver step per stage, in order: NONE for one person, AND for all, OR for any', async () => {
    tokenOnce();
    nock(API)
      .get('/v1.0/workflow/forms/schemas/processCodes')
      .query(true)
      .reply(200, form);
    nock(API)
      .post('/v1.0/workflow/processInstances', body => {
        expect(body.approvers).toEqual([
          { actionType: 'NONE', userIds: ['alice'] },
          { actionType: 'AND', userIds: ['bob', 'carol'] },
          { actionType: 'OR', userIds: ['dave', 'erin'] },
        ]);
        return true;
      })
      .reply(200, { instanceId: 'PI-1' });
    await client().createInstance({
      approvalId: 'a',
      form: 'PROC',
      title: 't',
      fields: [{ field: 'Service', value: 'api' }],
      stages: [
        { approvers: ['alice'], rule: 'all' },
        { approvers: ['bob', 'carol'], rule: 'all' },
        { approvers: ['dave', 'erin'], rule: 'any' },
      ],
    });
  });

  /** The body of the create sent for a one-step request with these CC recipients. */
  const createdWithCc = async (cc?: string[]) => {
    tokenOnce();
    nock(API)
      .get('/v1.0/workflow/forms/schemas/processCodes')
      .query(true)
      .reply(200, form);
    let sent: any;
    nock(API)
      .post('/v1.0/workflow/processInstances', body => {
        sent = body;
        return true;
      })
      .reply(200, { instanceId: 'PI-1' });
    await client().createInstance({
      approvalId: 'a',
      form: 'PROC',
      title: 't',
      fields: [{ field: 'Service', value: 'api' }],
      stages: [{ approvers: ['alice'], rule: 'any' }],
      ...(cc ? { cc } : {}),
    });
    return sent;
  };

  it('sends CC recipients in ccList, looked up like approvers, told at the start and at the finish', async () => {
    nock(OAPI)
      .post('/topapi/v2/user/getbymobile', { mobile: '13800000003' })
      .query(true)
      .reply(200, { errcode: 0, result: { userid: 'carol' } });
    const sent = await createdWithCc(['13800000003', 'dave', 'carol']);
    expect(sent).toMatchObject({
      ccList: ['carol', 'dave'],
      ccPosition: 'START_FINISH',
    });
    expect(sent.approvers).toEqual([
      { actionType: 'NONE', userIds: ['alice'] },
    ]);
  });

  it('sends no ccList without CC recipients', async () => {
    const sent = await createdWithCc();
    expect(sent).not.toHaveProperty('ccList');
    expect(sent).not.toHaveProperty('ccPosition');
  });

  it('gives the title as the first line of the "Context" component: DingTalk shows an instance by its form name', async () => {
    tokenOnce();
    nock(API)
      .get('/v1.0/workflow/forms/schemas/processCodes')
      .query(true)
      .reply(200, {
        result: {
          schemaContent: {
            items: [
              textarea('field_1', 'Service'),
              textarea('field_2', 'Context'),
            ],
          },
        },
      });
    let values: unknown;
    nock(API)
      .post('/v1.0/workflow/processInstances', body => {
        values = body.formComponentValues;
        return true;
      })
      .reply(200, { instanceId: 'PI-1' });
    await client().createInstance({
      approvalId: 'a',
      form: 'PROC',
      title: '[Test] Deploy api',
      fields: [{ field: 'Service', value: 'api' }],
      stages: [{ approvers: ['alice'], rule: 'all' }],
      context: [{ kind: 'environment', label: 'Environment', value: 'prod' }],
      test: true,
    });
    expect(values).toEqual([
      { id: 'field_1', name: 'Service', value: 'api' },
      {
        id: 'field_2',
        name: 'Context',
        value: '[Test] Deploy api\nEnvironment: prod',
      },
    ]);
  });

  it('refuses more than 20 stages before asking DingTalk, in checkTemplate and createInstance; checkTemplate reads the form', async () => {
    const stages = Array.from({ length: 21 }, () => ({
      approvers: ['alice'],
      rule: 'all' as const,
    }));
    const dingtalk = client();
    for (const attempt of [
      dingtalk.checkTemplate({ form: 'PROC', stages }),
      dingtalk.createInstance({
        approvalId: 'a',
        form: 'PROC',
        title: 't',
        fields: [],
        stages,
      }),
    ]) {
      const error = await imApiError(attempt);
      expect(error.kind).toBe('invalid_request');
      expect(error.message).toMatch(
        /at most 20 approver steps in an instance; the template has 21 stages/,
      );
    }
    tokenOnce();
    nock(API)
      .get('/v1.0/workflow/forms/schemas/processCodes')
      .query({ processCode: 'PROC' })
      .reply(200, form);
    await expect(
      dingtalk.checkTemplate({ form: 'PROC', stages: stages.slice(0, 20) }),
    ).resolves.toHaveLength(2);
  });

  it("tells each reached step's progress from the instance's tasks, grouped by activity in order", async () => {
    tokenOnce();
    nock(API)
      .get('/v1.0/workflow/processInstances')
      .query(true)
      .reply(
        200,
        instance({
          tasks: [
            {
              userId: 'alice',
              status: 'COMPLETED',
              result: 'AGREE',
              activityId: 'act-a',
            },
            {
              userId: 'bob',
              status: 'CANCELED',
              result: 'NONE',
              activityId: 'act-a',
            },
            {
              userId: 'carol',
              status: 'RUNNING',
              result: 'NONE',
              activityId: 'act-b',
            },
            {
              userId: 'dave',
              status: 'COMPLETED',
              result: 'AGREE',
              activityId: 'act-b',
            },
          ],
        }),
      );
    userName('alice', 'Alice Chen');
    userName('dave', 'Dave Wu');
    expect(await client().readInstance('PI-1')).toEqual({
      status: 'pending',
      stages: [
        {
          status: 'approved',
          approvedBy: [{ id: 'alice', name: 'Alice Chen' }],
          waitingOn: [],
        },
        {
          status: 'pending',
          approvedBy: [{ id: 'dave', name: 'Dave Wu' }],
          waitingOn: ['carol'],
        },
      ],
    });
  });

  it('tells a step whose tasks are all NEW (made ahead, not started) as waiting, with nobody waited on yet', async () => {
    tokenOnce();
    nock(API)
      .get('/v1.0/workflow/processInstances')
      .query(true)
      .reply(
        200,
        instance({
          tasks: [
            {
              userId: 'alice',
              status: 'RUNNING',
              result: 'NONE',
              activityId: '1',
            },
            { userId: 'bob', status: 'NEW', result: 'NONE', activityId: '2' },
          ],
        }),
      );
    expect((await client().readInstance('PI-1')).stages).toEqual([
      { status: 'pending', approvedBy: [], waitingOn: ['alice'] },
      { status: 'waiting', approvedBy: [], waitingOn: [] },
    ]);
  });

  it('marks the step refused in as rejected, and every step of an approved instance as approved', async () => {
    tokenOnce();
    nock(API)
      .get('/v1.0/workflow/processInstances')
      .query({ processInstanceId: 'PI-refused' })
      .reply(
        200,
        instance({
          status: 'COMPLETED',
          result: 'refuse',
          operationRecords: [
            { userId: 'bob', type: 'EXECUTE_TASK_NORMAL', result: 'REFUSE' },
          ],
          tasks: [
            {
              userId: 'alice',
              status: 'COMPLETED',
              result: 'AGREE',
              activityId: '1',
            },
            {
              userId: 'bob',
              status: 'COMPLETED',
              result: 'REFUSE',
              activityId: '2',
            },
            {
              userId: 'carol',
              status: 'CANCELED',
              result: 'NONE',
              activityId: '2',
            },
          ],
        }),
      );
    nock(API)
      .get('/v1.0/workflow/processInstances')
      .query({ processInstanceId: 'PI-approved' })
      .reply(
        200,
        instance({
          status: 'COMPLETED',
          result: 'agree',
          tasks: [
            {
              userId: 'alice',
              status: 'COMPLETED',
              result: 'AGREE',
              activityId: '1',
            },
            {
              userId: 'bob',
              status: 'COMPLETED',
              result: 'AGREE',
              activityId: '2',
            },
          ],
        }),
      );
    userName('alice', 'Alice Chen');
    userName('bob', 'Bob Li');
    const dingtalk = client();
    const refused = await dingtalk.readInstance('PI-refused');
    expect(refused.status).toBe('rejected');
    expect(refused.stages?.map(stage => stage.status)).toEqual([
      'approved',
      'rejected',
    ]);
    expect(refused.stages?.[1].approvedBy).toEqual([]);
    const approved = await dingtalk.readInstance('PI-approved');
    expect(approved.stages?.map(stage => stage.status)).toEqual([
      'approved',
      'approved',
    ]);
  });

  it('creates the form with one text component per field by label, ids from their order, and no approver nodes; fills instances from it without reading it', async () => {
    tokenOnce();
    nock(API)
      .post('/v1.0/workflow/forms', {
        name: 'deploy-staged',
        description: 'Staged deployments',
        formComponents: [
          {
            componentType: 'TextareaField',
            props: {
              componentId: 'field_1',
              label: 'Service',
              required: false,
            },
          },
          {
            componentType: 'TextareaField',
            props: { componentId: 'field_2', label: 'Run', required: false },
          },
        ],
      })
      .reply(200, { result: { processCode: 'PROC-NEW' } });
    nock(API)
      .post('/v1.0/workflow/processInstances', body => {
        expect(body.formComponentValues).toEqual([
          { id: 'field_2', name: 'Run', value: '42' },
        ]);
        return true;
      })
      .reply(200, { instanceId: 'PI-1' });
    const dingtalk = client();
    expect(await dingtalk.saveForm(spec)).toEqual({ formId: 'PROC-NEW' });
    await dingtalk.createInstance({
      approvalId: 'a',
      form: 'PROC-NEW',
      title: 't',
      fields: [{ field: 'Run', value: '42' }],
      stages: [{ approvers: ['alice'], rule: 'any' }],
    });
  });

  it('updates the form it made in place by its processCode, and shows a note in a form without fields', async () => {
    tokenOnce();
    nock(API)
      .post('/v1.0/workflow/forms', body => {
        expect(body).toMatchObject({
          processCode: 'PROC-NEW',
          formComponents: [
            { componentType: 'TextNote', props: { label: 'Note' } },
          ],
        });
        return true;
      })
      .reply(200, { result: { processCode: 'PROC-NEW' } });
    expect(
      await client().saveForm({ ...spec, fields: [] }, 'PROC-NEW'),
    ).toEqual({ formId: 'PROC-NEW' });
  });

  it('refuses a field label over 20 characters, or more than 20 stages, before asking DingTalk', async () => {
    const dingtalk = client();
    const long = await imApiError(
      dingtalk.saveForm({ ...spec, fields: ['Reason for the deployment'] }),
    );
    expect(long.kind).toBe('invalid_request');
    expect(long.message).toMatch(
      /field labels are at most 20 characters, and "Reason for the deployment" has 25/,
    );
    const steps = await imApiError(
      dingtalk.saveForm({
        ...spec,
        stages: Array.from({ length: 21 }, () => ({ rule: 'all' as const })),
      }),
    );
    expect(steps.message).toMatch(/at most 20 approver steps/);
  });

  it('names the missing permission and where to grant it when DingTalk answers 403 AccessTokenPermissionDenied', async () => {
    tokenOnce();
    nock(API)
      .post('/v1.0/workflow/forms')
      .reply(403, {
        code: 'Forbidden.AccessDenied.AccessTokenPermissionDenied',
        message: '没有调用该接口的权限',
        requestid: 'r-1',
        accessdenieddetail: { requiredScopes: ['Workflow.Form.Write'] },
      });
    const error = await imApiError(client().saveForm(spec));
    expect(error.kind).toBe('permission');
    expect(error.message).toBe(
      'The DingTalk app dingappkey may not create approval form "deploy-staged": it lacks the permission Workflow.Form.Write; ' +
        'grant it in the DingTalk developer console (open-dev.dingtalk.com) → the app → Permissions (权限管理) ' +
        '(code Forbidden.AccessDenied.AccessTokenPermissionDenied: 没有调用该接口的权限)',
    );
  });

  it('says another form has the name, in English, when DingTalk answers formName.error', async () => {
    tokenOnce();
    nock(API)
      .post('/v1.0/workflow/forms')
      .reply(400, { code: 'formName.error', message: '已有相同名称表单' });
    const error = await imApiError(client().saveForm(spec));
    expect(error.kind).toBe('invalid_request');
    expect(error.message).toMatch(
      /^Another DingTalk approval form is already named "deploy-staged" .*rename or delete it in the OA approval admin console/,
    );
  });

  it('tells drift in sentences from a fresh read: a renamed, a missing and a no longer text field, an extra required one; none when it matches', async () => {
    tokenOnce();
    nock(API)
      .get('/v1.0/workflow/forms/schemas/processCodes')
      .query({ processCode: 'PROC-NEW' })
      .reply(
        200,
        savedSchema([
          textarea('field_1', 'Service'),
          textarea('field_2', 'Run'),
        ]),
      );
    nock(API)
      .get('/v1.0/workflow/forms/schemas/processCodes')
      .query({ processCode: 'PROC-NEW' })
      .reply(
        200,
        savedSchema([
          textarea('field_1', 'Component'),
          {
            componentName: 'NumberField',
            props: { id: 'field_3', label: 'Count' },
          },
          textarea('TextField_x', 'Ticket', true),
        ]),
      );
    const dingtalk = client();
    const three = { ...spec, fields: ['Service', 'Run', 'Count'] };
    expect(await dingtalk.formDrift(spec, 'PROC-NEW')).toEqual([]);
    expect(await dingtalk.formDrift(three, 'PROC-NEW')).toEqual([
      'Field "Service" was renamed to "Component" in DingTalk form PROC-NEW',
      'Field "Run" is missing from DingTalk form PROC-NEW',
      'Field "Count" is a NumberField in DingTalk form PROC-NEW, not a text field',
      'DingTalk form PROC-NEW has a required field "Ticket" that the template does not fill',
    ]);
    // The fresh read is what instances are then filled from.
    expect(
      (await dingtalk.describeForm('PROC-NEW')).map(field => field.name),
    ).toEqual(['Component', 'Count', 'Ticket']);
  });

  it('tells a form deleted in DingTalk as drift', async () => {
    tokenOnce();
    nock(API)
      .get('/v1.0/workflow/forms/schemas/processCodes')
      .query(true)
      .reply(400, {
        code: 'processCodeNotExist',
        message: 'processCode PROC-NEW does not exist',
      });
    expect(await client().formDrift(spec, 'PROC-NEW')).toEqual([
      'DingTalk form PROC-NEW no longer exists',
    ]);
  });
});

describe('DingtalkClient work notices', () => {
  it('sends plain text with the link on its own line, to at most 100 people a call', async () => {
    tokenOnce();
    const people = Array.from({ length: 150 }, (_, i) => `u${i}`);
    const bodies: unknown[] = [];
    nock(OAPI)
      .post('/topapi/message/corpconversation/asyncsend_v2', body => {
        bodies.push(body);
        return true;
      })
      .query({ access_token: 'tok-1' })
      .times(2)
      .reply(200, { errcode: 0, errmsg: 'ok', task_id: 1 });
    await client().sendMessage(people, 'Reminder: "<b>x</b>"', 'https://i/1');
    expect(bodies).toEqual([
      {
        agent_id: 3001,
        userid_list: people.slice(0, 100).join(','),
        msg: {
          msgtype: 'text',
          text: { content: 'Reminder: "<b>x</b>"\nhttps://i/1' },
        },
      },
      expect.objectContaining({ userid_list: people.slice(100).join(',') }),
    ]);
  });

  it('says an app without its AgentId cannot send work notices, calling nothing', async () => {
    const { agentId: _, ...withoutAgent } = integration;
    const dingtalk = new DingtalkClient(
      dingtalkIntegrationSchema.parse(withoutAgent),
      {
        logger: mockServices.logger.mock(),
        callbackMaxAgeSeconds: 300,
        keepToRateLimits: true,
      },
    );
    await expect(dingtalk.sendMessage(['alice'], 'x')).rejects.toMatchObject({
      kind: 'invalid_request',
      message: expect.stringContaining(
        'set agentId on integration "dingtalk-test"',
      ),
    });
  });
});

describe('DingtalkClient group chat cards', () => {
  const carded = () =>
    new DingtalkClient(
      dingtalkIntegrationSchema.parse({
        ...integration,
        connectionMode: 'stream',
        cardTemplateId: 'tpl.schema',
      }),
      {
        logger: mockServices.logger.mock(),
        callbackMaxAgeSeconds: 300,
        keepToRateLimits: true,
      },
    );
  const card = {
    approvalId: 'a1',
    title: 'Deploy api',
    test: true,
    context: [
      { kind: 'repository' as const, label: 'Repository', value: 'acme/api' },
    ],
    fields: [{ label: 'Reason', value: '<b>hotfix</b>' }],
    state: 'pending' as const,
    waitingOn: ['Alice Chen', 'Bob Li'],
  };

  it('delivers the card from the template to the group by the app’s robot, its variables strings shown as written', async () => {
    tokenOnce();
    let sent: any;
    nock(API)
      .post('/v1.0/card/instances/createAndDeliver', body => {
        sent = body;
        return true;
      })
      .reply(200, { success: true, result: { outTrackId: 'im-approval-a1' } });
    await expect(carded().postCard('cidRoom==', card)).resolves.toBe(
      'im-approval-a1',
    );
    expect(sent).toMatchObject({
      cardTemplateId: 'tpl.schema',
      outTrackId: 'im-approval-a1',
      callbackType: 'STREAM',
      openSpaceId: 'dtv1.card//IM_GROUP.cidRoom==',
      imGroupOpenDeliverModel: { robotCode: 'dingappkey' },
      cardData: {
        cardParamMap: {
          approvalId: 'a1',
          title: '[Test] Deploy api',
          status: 'Pending',
          details: 'Repository: acme/api\nReason: <b>hotfix</b>',
          waitingOn: 'Alice Chen, Bob Li',
          decidable: 'true',
          outcome: '',
        },
      },
    });
    expect(
      Object.values(sent.cardData.cardParamMap).every(
        value => typeof value === 'string',
      ),
    ).toBe(true);
  });

  it('updates the card an earlier attempt delivered when DingTalk refuses the outTrackId again; else the refusal stands', async () => {
    tokenOnce();
    nock(API)
      .post('/v1.0/card/instances/createAndDeliver')
      .times(2)
      .reply(400, { code: 'param.outTrackId.duplicate', message: 'used' });
    nock(API)
      .put('/v1.0/card/instances', body => body.outTrackId === 'im-approval-a1')
      .reply(200, { success: true, result: true });
    const dingtalk = carded();
    await expect(dingtalk.postCard('cidRoom==', card)).resolves.toBe(
      'im-approval-a1',
    );
    nock(API)
      .put('/v1.0/card/instances')
      .reply(400, { code: 'param.outTrackId.invalid', message: 'no card' });
    await expect(dingtalk.postCard('cidRoom==', card)).rejects.toMatchObject({
      kind: 'invalid_request',
      message: expect.stringContaining('used'),
    });
  });

  it('says cards need the card template, calling nothing', async () => {
    await expect(client().postCard('cidRoom==', card)).rejects.toMatchObject({
      kind: 'invalid_request',
      message: expect.stringContaining(
        'set cardTemplateId on integration "dingtalk-test"',
      ),
    });
  });

  it('executes the approver’s own running task with the comment as remark, and says when they have none', async () => {
    tokenOnce();
    nock(API)
      .get('/v1.0/workflow/processInstances')
      .query({ processInstanceId: 'i1' })
      .times(2)
      .reply(
        200,
        instance({
          tasks: [
            { taskId: 11, userId: 'alice', status: 'COMPLETED' },
            { taskId: 12, userId: 'bob', status: 'RUNNING' },
          ],
        }),
      );
    let executed: unknown;
    nock(API)
      .post('/v1.0/workflow/processInstances/execute', body => {
        executed = body;
        return true;
      })
      .reply(200, { success: true, result: true });
    const dingtalk = carded();
    await dingtalk.decideTask('i1', 'bob', 'reject', 'not today');
    expect(executed).toEqual({
      processInstanceId: 'i1',
      taskId: 12,
      actionerUserId: 'bob',
      result: 'refuse',
      remark: 'not today',
    });
    await expect(
      dingtalk.decideTask('i1', 'alice', 'approve'),
    ).rejects.toMatchObject({
      kind: 'invalid_request',
      message: expect.stringMatching(
        /^you have no running task on this DingTalk request .*alice on i1$/,
      ),
    });
  });
});
