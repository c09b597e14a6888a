import {
  mockCredentials,
  mockServices,
  startTestBackend,
  TestDatabases,
} from '@backstage/backend-test-utils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { startSandbox, type Sandbox } from '@im-approval/im-sandbox';
import { TEST_SEED, APP } from '@im-approval/im-sandbox/testing';
import { imApprovalPermissions } from '@im-approval/plugin-im-approval-common';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Knex } from 'knex';
import request from 'supertest';
import { imApprovalPlugin } from '../plugin';

jest.setTimeout(60_000);

const SECRETS_KEY = Buffer.alloc(32, 7).toString('base64');
const ALL = imApprovalPermissions.map(p => p.name);
const user = mockCredentials.user.header();
const api = '/api/im-approval';

/** What the signed-in user may do; each test sets it. */
let allowed = new Set<string>(ALL);
const auditEvents: string[] = [];

let sandbox: Sandbox;
let server: Server;
/** The plugin's database, for damaging a stored secret as a changed secretsKey would. */
let knex: Knex;
const databases = TestDatabases.create({ ids: ['SQLITE_3'] });

function feishuApp(id: string, overrides: Record<string, unknown> = {}) {
  return {
    id,
    provider: 'feishu',
    title: 'Managed app',
    baseUrl: sandbox.url,
    appId: APP.appId,
    appSecret: APP.appSecret,
    verificationToken: APP.verificationToken,
    encryptKey: APP.encryptKey,
    initiator: 'bot@example.com',
    ...overrides,
  };
}

function template(
  name: string,
  integration: string,
  overrides: Record<string, unknown> = {},
) {
  return {
    name,
    integration,
    form: 'DEPLOY',
    title: 'Deploy ${vars.service} from ${repository}',
    fields: {
      Service: '${vars.service}',
      Reason: '${vars.reason}',
      Run: '${runUrl}',
    },
    approvers: ['alice@example.com'],
    approverMode: 'any',
    ...overrides,
  };
}

const fault = (route: string, code: number, httpStatus?: number) =>
  fetch(`${sandbox.url}/_sandbox/feishu/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      route,
      code,
      ...(httpStatus ? { httpStatus } : {}),
    }),
  });

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, seed: TEST_SEED });
  knex = await databases.init('SQLITE_3');
  ({ server } = await startTestBackend({
    features: [
      imApprovalPlugin,
      mockServices.database.factory({ knex }),
      mockServices.rootConfig.factory({
        data: {
          imApproval: {
            secretsKey: SECRETS_KEY,
            integrations: [
              { ...feishuApp('config-app'), title: 'From app-config' },
            ],
            templates: [template('config-template', 'config-app')],
          },
        },
      }),
      mockServices.permissions.mock({
        authorize: async requests =>
          requests.map(r => ({
            result: allowed.has(r.permission.name)
              ? AuthorizeResult.ALLOW
              : AuthorizeResult.DENY,
          })),
        authorizeConditional: async requests =>
          requests.map(r => ({
            result: allowed.has(r.permission.name)
              ? AuthorizeResult.ALLOW
              : AuthorizeResult.DENY,
          })),
      }).factory,
      mockServices.auditor.mock({
        createEvent: async ({ eventId }) => {
          auditEvents.push(eventId);
          return { success: async () => {}, fail: async () => {} };
        },
      }).factory,
      mockServices.httpAuth.factory({
        defaultCredentials: mockCredentials.none(),
      }),
    ],
  }));
});

afterAll(() => sandbox.close());

beforeEach(() => {
  allowed = new Set(ALL);
  auditEvents.length = 0;
});

describe('capabilities', () => {
  it('says what the user may do, and that database settings are available', async () => {
    allowed = new Set(['im-approval.approval.read']);
    const response = await request(server)
      .get(`${api}/capabilities`)
      .set('Authorization', user);
    expect(response.body).toEqual({
      manageIntegrations: false,
      manageTemplates: false,
      readApprovals: true,
      decideApprovals: false,
      databaseSettings: true,
    });
  });
});

describe('integrations', () => {
  it('creates one in the database, never showing its secrets, beside the read-only one from app-config', async () => {
    const created = await request(server)
      .post(`${api}/integrations`)
      .set('Authorization', user)
      .send(feishuApp('managed-a'));
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      id: 'managed-a',
      provider: 'feishu',
      appId: APP.appId,
      secrets: { appSecret: true, verificationToken: true, encryptKey: true },
      source: 'database',
      editable: true,
      callbackPath: '/callbacks/feishu/managed-a',
    });
    expect(auditEvents).toEqual(['integration-create']);

    const list = await request(server)
      .get(`${api}/integrations`)
      .set('Authorization', user);
    expect(
      list.body.items.map(
        (i: { id: string; source: string; editable: boolean }) => [
          i.id,
          i.source,
          i.editable,
        ],
      ),
    ).toEqual([
      ['config-app', 'config', false],
      ['managed-a', 'database', true],
    ]);
    const everything = JSON.stringify([created.body, list.body]);
    for (const secret of [APP.appSecret, APP.verificationToken, APP.encryptKey])
      expect(everything).not.toContain(secret);
  });

  it('names each invalid field and creates nothing', async () => {
    const response = await request(server)
      .post(`${api}/integrations`)
      .set('Authorization', user)
      .send({ ...feishuApp('bad-one'), appId: '', connectionMode: 'pigeon' });
    expect(response.status).toBe(400);
    expect(response.body.error.message).toMatch(/body\.appId: /);
    expect(response.body.error.message).toMatch(/body\.connectionMode: /);
    expect(
      (
        await request(server)
          .get(`${api}/integrations/bad-one`)
          .set('Authorization', user)
      ).status,
    ).toBe(404);
  });

  it('refuses a Feishu app over callbacks without an Encrypt Key, as the other IMs without their keys, and creates nothing', async () => {
    const { encryptKey: _key, ...withoutKey } = feishuApp('no-key');
    const refused = await request(server)
      .post(`${api}/integrations`)
      .set('Authorization', user)
      .send(withoutKey);
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toBe(
      'body.encryptKey: is required when connectionMode is callback: without it Feishu neither encrypts nor signs callbacks; ' +
        'set the Encrypt Key from Events and callbacks → Encryption strategy (or use long-connection or poll)',
    );
    expect(
      (
        await request(server)
          .get(`${api}/integrations/no-key`)
          .set('Authorization', user)
      ).status,
    ).toBe(404);

    const dingtalk = {
      id: 'no-key-dingtalk',
      provider: 'dingtalk',
      appKey: 'dingx',
      appSecret: 's',
      initiator: 'bot',
      connectionMode: 'callback',
    };
    const alike = await request(server)
      .post(`${api}/integrations`)
      .set('Authorization', user)
      .send(dingtalk);
    expect(alike.status).toBe(400);
    expect(alike.body.error.message).toMatch(
      /^body\.token: is required when connectionMode is callback.*body\.aesKey: is required/,
    );

    const polled = await request(server)
      .post(`${api}/integrations`)
      .set('Authorization', user)
      .send({ ...withoutKey, connectionMode: 'poll' });
    expect(polled.status).toBe(201);
  });

  it.each([
    [
      'an id longer than its column',
      { id: 'a'.repeat(65) },
      /^body\.id: must be lower-case letters, digits and dashes \(at most 64/,
    ],
    [
      'a title with NUL',
      { title: 'Managed\u0000app' },
      /^body\.title: must not contain the NUL character \(U\+0000\)$/,
    ],
    [
      'an over-long title',
      { title: 'x'.repeat(201) },
      /^body\.title: must be at most 200 characters$/,
    ],
    [
      'an app id with NUL',
      { appId: 'cli_\u0000' },
      /^body\.appId: must not contain the NUL character/,
    ],
    [
      'an over-long secret',
      { appSecret: 's'.repeat(1025) },
      /^body\.appSecret: must be at most 1024 characters$/,
    ],
    [
      'an over-long initiator',
      { initiator: `${'a'.repeat(250)}@example.com` },
      /^body\.initiator: must be at most 255 characters$/,
    ],
  ])(
    'refuses %s with a 400 naming the field, and stores nothing',
    async (_, overrides, message) => {
      const body = { ...feishuApp('bounded'), ...overrides };
      const created = await request(server)
        .post(`${api}/integrations`)
        .set('Authorization', user)
        .send(body);
      expect(created.status).toBe(400);
      expect(created.body.error.message).toMatch(message);
      expect(
        (
          await request(server)
            .get(`${api}/integrations/bounded`)
            .set('Authorization', user)
        ).status,
      ).toBe(404);
    },
  );

  it('refuses values the database cannot hold in an update too, keeping the stored integration', async () => {
    await request(server)
      .post(`${api}/integrations`)
      .set('Authorization', user)
      .send(feishuApp('managed-bounded'));
    for (const [overrides, message] of [
      [
        {
          title: 'x'.repeat(201),
          instanceUrl: `https://${'x'.repeat(2048)}/{instanceId}`,
        },
        /^body\.title: must be at most 200 characters; body\.instanceUrl: must be at most 2048/,
      ],
      [
        { verificationToken: 'v\u0000' },
        /^body\.verificationToken: must not contain the NUL character/,
      ],
    ] as const) {
      const update = await request(server)
        .put(`${api}/integrations/managed-bounded`)
        .set('Authorization', user)
        .send({ ...feishuApp('managed-bounded'), ...overrides });
      expect(update.status).toBe(400);
      expect(update.body.error.message).toMatch(message);
    }
    expect(
      (
        await request(server)
          .get(`${api}/integrations/managed-bounded`)
          .set('Authorization', user)
      ).body.title,
    ).toBe('Managed app');
  });

  it.each([
    ['get', 'a'.repeat(65)],
    ['put', 'a'.repeat(65)],
    ['delete', 'a'.repeat(65)],
    ['post', `${'a'.repeat(65)}/test`],
    ['get', 'Not_An_Id'],
  ] as const)(
    '%s /integrations/%s answers 400 naming path.id',
    async (method, path) => {
      const response = await request(server)
        [method](`${api}/integrations/${path}`)
        .set('Authorization', user)
        .send(feishuApp('x'));
      expect(response.status).toBe(400);
      expect(response.body.error.message).toMatch(
        /^path\.id: must be lower-case letters, digits and dashes/,
      );
    },
  );

  it("says when Feishu's token endpoint has an outage, without blaming the credentials", async () => {
    await fault('token', 1, 503);
    const response = await request(server)
      .post(`${api}/integrations/config-app/test`)
      .set('Authorization', user);
    expect(response.body).toMatchObject({ ok: false, problem: 'unavailable' });
    expect(response.body.message).toBe(
      "Feishu answered HTTP 503 (code 1: fault injected by the IM sandbox) when asked to get a tenant access token: an outage at Feishu, not a problem with the app's settings; retrying later",
    );
  });

  it('keeps ids unique across app-config and the database', async () => {
    const taken = await request(server)
      .post(`${api}/integrations`)
      .set('Authorization', user)
      .send(feishuApp('config-app'));
    expect(taken.status).toBe(409);
    expect(taken.body.error.message).toBe(
      'Integration id "config-app" is taken by an integration from app-config',
    );
    await request(server)
      .post(`${api}/integrations`)
      .set('Authorization', user)
      .send(feishuApp('managed-twice'));
    const again = await request(server)
      .post(`${api}/integrations`)
      .set('Authorization', user)
      .send(feishuApp('managed-twice'));
    expect(again.status).toBe(409);
  });

  it('refuses to change or delete an integration from app-config', async () => {
    const update = await request(server)
      .put(`${api}/integrations/config-app`)
      .set('Authorization', user)
      .send(feishuApp('config-app'));
    expect(update.status).toBe(409);
    expect(update.body.error.message).toBe(
      'Integration "config-app" comes from app-config and is read-only; change it there',
    );
    expect(
      (
        await request(server)
          .delete(`${api}/integrations/config-app`)
          .set('Authorization', user)
      ).status,
    ).toBe(409);
  });

  it('keeps a secret the update leaves out, uses a changed one at once, and removes an optional one sent as null', async () => {
    await request(server)
      .post(`${api}/integrations`)
      .set('Authorization', user)
      .send(feishuApp('managed-b'));
    const {
      appSecret: _appSecret,
      verificationToken: _token,
      encryptKey: _key,
      ...withoutSecrets
    } = feishuApp('managed-b');

    const kept = await request(server)
      .put(`${api}/integrations/managed-b`)
      .set('Authorization', user)
      .send({ ...withoutSecrets, title: 'Renamed' });
    expect(kept.status).toBe(200);
    expect(kept.body).toMatchObject({
      title: 'Renamed',
      secrets: { appSecret: true, verificationToken: true, encryptKey: true },
    });
    expect(
      (
        await request(server)
          .post(`${api}/integrations/managed-b/test`)
          .set('Authorization', user)
      ).body,
    ).toMatchObject({ ok: true });

    // The cached client of the old settings must not survive the change.
    await request(server)
      .put(`${api}/integrations/managed-b`)
      .set('Authorization', user)
      .send({ ...withoutSecrets, appSecret: 'wrong-secret' });
    const refused = await request(server)
      .post(`${api}/integrations/managed-b/test`)
      .set('Authorization', user);
    expect(refused.body).toMatchObject({
      ok: false,
      problem: 'credentials',
      code: 10014,
    });
    expect(refused.body.message).toMatch(
      /^Invalid app secret for app cli_test_app: copy the App Secret again/,
    );

    // Callbacks need the Encrypt Key; polled, the integration may go without.
    const needed = await request(server)
      .put(`${api}/integrations/managed-b`)
      .set('Authorization', user)
      .send({ ...withoutSecrets, encryptKey: null });
    expect(needed.status).toBe(400);
    expect(needed.body.error.message).toMatch(
      /^body\.encryptKey: is required when connectionMode is callback/,
    );
    expect(
      (
        await request(server)
          .get(`${api}/integrations/managed-b`)
          .set('Authorization', user)
      ).body.secrets.encryptKey,
    ).toBe(true);
    const cleared = await request(server)
      .put(`${api}/integrations/managed-b`)
      .set('Authorization', user)
      .send({ ...withoutSecrets, connectionMode: 'poll', encryptKey: null });
    expect(cleared.body.secrets).toEqual({
      appSecret: true,
      verificationToken: true,
      encryptKey: false,
    });
    const required = await request(server)
      .put(`${api}/integrations/managed-b`)
      .set('Authorization', user)
      .send({ ...withoutSecrets, appSecret: null });
    expect(required.status).toBe(400);
    expect(required.body.error.message).toMatch(/^body\.appSecret: /);
  });

  it('refuses renaming', async () => {
    await request(server)
      .post(`${api}/integrations`)
      .set('Authorization', user)
      .send(feishuApp('managed-c'));
    const renamed = await request(server)
      .put(`${api}/integrations/managed-c`)
      .set('Authorization', user)
      .send(feishuApp('managed-z'));
    expect(renamed.status).toBe(400);
    expect(renamed.body.error.message).toBe(
      'body.id: must be "managed-c"; an integration cannot be renamed',
    );
  });

  it.each([
    [10003, 'credentials', /^Unknown app id cli_test_app/],
    [
      10013,
      'permission',
      /is not published or is disabled: create a version and publish it/,
    ],
    [
      99991401,
      'permission',
      /IP address is not allowed.*add the backend's public egress IP/,
    ],
    [99991400, 'rate_limited', /rate limit/],
  ])(
    'explains IM error %p in a connection test',
    async (code, problem, message) => {
      await fault('token', code);
      const response = await request(server)
        .post(`${api}/integrations/config-app/test`)
        .set('Authorization', user);
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ ok: false, problem, code });
      expect(response.body.message).toMatch(message);
      expect(auditEvents).toEqual(['integration-test']);
    },
  );

  it('says when the IM cannot be reached', async () => {
    await request(server)
      .post(`${api}/integrations`)
      .set('Authorization', user)
      .send(feishuApp('unreachable', { baseUrl: 'http://127.0.0.1:9' }));
    const response = await request(server)
      .post(`${api}/integrations/unreachable/test`)
      .set('Authorization', user);
    expect(response.body).toMatchObject({ ok: false, problem: 'unavailable' });
    expect(response.body.message).toMatch(
      /Could not reach Feishu at http:\/\/127\.0\.0\.1:9/,
    );
  });

  describe('testing settings before they are saved', () => {
    const typed = (id: string, overrides: Record<string, unknown> = {}) => {
      const {
        verificationToken: _token,
        encryptKey: _key,
        ...app
      } = feishuApp(id, { connectionMode: 'long-connection', ...overrides });
      return app;
    };

    it('tests them as typed, stores nothing and returns no secret', async () => {
      const passed = await request(server)
        .post(`${api}/integrations/test`)
        .set('Authorization', user)
        .send(typed('typed-only'));
      expect(passed.status).toBe(200);
      expect(passed.body).toMatchObject({ ok: true });
      expect(JSON.stringify(passed.body)).not.toContain(APP.appSecret);
      expect(auditEvents).toEqual(['integration-test']);
      expect(
        (
          await request(server)
            .get(`${api}/integrations/typed-only`)
            .set('Authorization', user)
        ).status,
      ).toBe(404);

      const refused = await request(server)
        .post(`${api}/integrations/test`)
        .set('Authorization', user)
        .send(typed('typed-only', { appSecret: 'not-the-secret' }));
      expect(refused.status).toBe(200);
      expect(refused.body).toMatchObject({ ok: false, problem: 'credentials' });
      expect(JSON.stringify(refused.body)).not.toContain('not-the-secret');
    });

    it('says in words what is missing, and asks for the manage permission', async () => {
      const { appSecret: _secret, ...withoutSecret } = typed('typed-only');
      const incomplete = await request(server)
        .post(`${api}/integrations/test`)
        .set('Authorization', user)
        .send({ ...withoutSecret, connectionMode: 'callback' });
      expect(incomplete.status).toBe(400);
      expect(incomplete.body.error.message).toMatch(
        /^body\.appSecret: is required; body\.verificationToken: is required when connectionMode is callback/,
      );

      allowed = new Set(['im-approval.template.manage']);
      const denied = await request(server)
        .post(`${api}/integrations/test`)
        .set('Authorization', user)
        .send(typed('typed-only'));
      expect(denied.status).toBe(403);
    });

    it("uses a saved database app's secrets left out, never app-config's", async () => {
      await request(server)
        .post(`${api}/integrations`)
        .set('Authorization', user)
        .send(feishuApp('typed-edit'));
      const { appSecret: _secret, ...edited } = typed('typed-edit', {
        title: 'Renamed before saving',
      });
      const kept = await request(server)
        .post(`${api}/integrations/test`)
        .set('Authorization', user)
        .send(edited);
      expect(kept.body).toMatchObject({ ok: true });

      const { appSecret: _configSecret, ...configApp } = typed('config-app');
      const lent = await request(server)
        .post(`${api}/integrations/test`)
        .set('Authorization', user)
        .send(configApp);
      expect(lent.status).toBe(400);
      expect(lent.body.error.message).toBe('body.appSecret: is required');
    });
  });

  describe('lending a saved app its secrets for a test', () => {
    /** A Feishu stand-in that refuses every token request, echoing the secret it was sent. */
    let echo: Server;
    let echoUrl: string;
    let echoed: number;
    beforeAll(async () => {
      echo = createServer((req, res) => {
        let text = '';
        req.on('data', chunk => (text += chunk));
        req.on('end', () => {
          echoed++;
          const { app_secret: secret } = JSON.parse(text || '{}');
          res.setHeader('content-type', 'application/json');
          res.end(
            JSON.stringify({ code: 1234, msg: `no app with secret ${secret}` }),
          );
        });
      });
      await new Promise<void>(resolve =>
        echo.listen(0, '127.0.0.1', () => resolve()),
      );
      echoUrl = `http://127.0.0.1:${(echo.address() as AddressInfo).port}`;
    });
    afterAll(() => new Promise(resolve => echo.close(resolve)));
    beforeEach(() => {
      echoed = 0;
    });

    const withoutAppSecret = (app: Record<string, unknown>) => {
      const { appSecret: _secret, ...rest } = app;
      return rest;
    };
    const save = (app: Record<string, unknown>) =>
      request(server)
        .post(`${api}/integrations`)
        .set('Authorization', user)
        .send(app);
    const test = (app: Record<string, unknown>) =>
      request(server)
        .post(`${api}/integrations/test`)
        .set('Authorization', user)
        .send(app);

    it('refuses to send stored secrets to another URL, and calls no one', async () => {
      await save(feishuApp('lent-moved'));
      const moved = await test(
        withoutAppSecret(feishuApp('lent-moved', { baseUrl: echoUrl })),
      );
      expect(moved.status).toBe(400);
      expect(moved.body.error.message).toMatch(
        /re-enter appSecret to test against another URL/,
      );
      expect(echoed).toBe(0);

      // Typed again, the secrets are the caller's own to send anywhere.
      const typed = await test(feishuApp('lent-moved', { baseUrl: echoUrl }));
      expect(typed.status).toBe(200);
      expect(echoed).toBe(1);
    });

    it('names a stored secret that no longer decrypts, in a 4xx, on both tests', async () => {
      await save(feishuApp('lent-damaged'));
      const row = await knex('im_approval_integration_secrets')
        .where({ integration_id: 'lent-damaged', field: 'appSecret' })
        .first();
      const flipped = Buffer.from(row.ciphertext, 'base64');
      flipped[0] ^= 1;
      await knex('im_approval_integration_secrets')
        .where({ integration_id: 'lent-damaged', field: 'appSecret' })
        .update({ ciphertext: flipped.toString('base64') });

      const unsaved = await test(withoutAppSecret(feishuApp('lent-damaged')));
      expect(unsaved.status).toBe(400);
      expect(unsaved.body.error.message).toBe(
        'body.appSecret: the stored value cannot be read with the current imApproval.secretsKey; enter it again',
      );
      const saved = await request(server)
        .post(`${api}/integrations/lent-damaged/test`)
        .set('Authorization', user);
      expect(saved.status).toBe(409);
      expect(saved.body.error.message).toMatch(
        /secret appSecret: .*enter the appSecret again/,
      );
      expect(echoed).toBe(0);
    });

    it('lends them to the URL the saved app uses, and scrubs every secret from the answer', async () => {
      await save(feishuApp('lent-echo', { baseUrl: echoUrl }));
      const lent = await test(
        withoutAppSecret(feishuApp('lent-echo', { baseUrl: echoUrl })),
      );
      expect(lent.status).toBe(200);
      expect(echoed).toBe(1);
      expect(lent.body).toMatchObject({ ok: false });
      expect(lent.body.message).toContain('no app with secret ***');
      expect(JSON.stringify(lent.body)).not.toContain(APP.appSecret);

      const typed = await test(
        feishuApp('lent-echo', {
          baseUrl: echoUrl,
          appSecret: 'typed-secret-42',
        }),
      );
      expect(typed.body.message).toContain('no app with secret ***');
      expect(JSON.stringify(typed.body)).not.toContain('typed-secret-42');
    });
  });

  it("lists an IM form's fields, and names an unknown form", async () => {
    const form = await request(server)
      .get(`${api}/integrations/config-app/forms/DEPLOY`)
      .set('Authorization', user);
    expect(form.body).toEqual({
      integration: 'config-app',
      form: 'DEPLOY',
      fields: [
        {
          id: 'widget_service',
          name: 'Service',
          type: 'input',
          required: true,
        },
        {
          id: 'widget_reason',
          name: 'Reason',
          type: 'textarea',
          required: true,
        },
        { id: 'widget_run', name: 'Run', type: 'input', required: false },
      ],
    });
    const unknown = await request(server)
      .get(`${api}/integrations/config-app/forms/NOPE`)
      .set('Authorization', user);
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.message).toMatch(/approval definition "NOPE"/);
  });

  it('names path.formId when the IM refuses the form id', async () => {
    await fault('approval.get', 1390001);
    // (A definition once read is cached: ask for one not read before.)
    const refused = await request(server)
      .get(`${api}/integrations/config-app/forms/REFUSED-FORM`)
      .set('Authorization', user);
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toMatch(
      /^path\.formId: Feishu refused to read approval definition "REFUSED-FORM" \(code 1390001: /,
    );
  });

  it.each([
    ['..', '..'],
    ['an encoded ..', '%2E%2E'],
    ['a dot', '.'],
    ['a slash', 'DEPLOY%2F..%2Fx'],
    ['whitespace', 'DEPLOY%20X'],
    ['a control character', 'DEPLOY%0A'],
    ['NUL', 'DEPLOY%00'],
    ['an over-long id', 'A'.repeat(129)],
  ])(
    'answers 400 naming path.formId for a form id with %s, without asking the IM',
    async (_, formId) => {
      const response = await request(server)
        .get(`${api}/integrations/config-app/forms/${formId}`)
        .set('Authorization', user);
      expect(response.status).toBe(400);
      // (NUL anywhere in the path is refused by the router before any route, naming the path.)
      expect(response.body.error.message).toMatch(
        /^path(\.formId)?: (expected the IM form's id \(Feishu approval_code, DingTalk processCode, WeCom template_id\)|expected at most 128 characters|must not contain the NUL)/,
      );
    },
  );

  it('takes the form ids the IMs issue', async () => {
    for (const formId of [
      '7C468A54-8745-2245-9675-08B7C63E7A85',
      'PROC-FF6Y4BE1N2-MDVLBMT7SDXQXMBFO8RB1-2E5ZOACI-5',
      '3TmALk1ogfgKiQE3e3jRwnTUhMTh8vca1XXXXXX',
      '1970325034075887_1688850201458357_1234567_1538378520',
    ]) {
      const response = await request(server)
        .get(`${api}/integrations/config-app/forms/${formId}`)
        .set('Authorization', user);
      expect([response.status, response.body.error?.message]).toEqual([
        404,
        expect.stringMatching(/approval definition/),
      ]);
    }
  });
});

describe('templates', () => {
  beforeAll(async () => {
    await request(server)
      .post(`${api}/integrations`)
      .set('Authorization', user)
      .send(feishuApp('managed-t'));
  });

  it('creates, reads, updates and deletes one in the database; app-config ones are read-only', async () => {
    const created = await request(server)
      .post(`${api}/templates`)
      .set('Authorization', user)
      .send(template('db-deploy', 'managed-t'));
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: 'db-deploy',
      source: 'database',
      editable: true,
      defaultTimeout: 3600,
    });

    const list = await request(server)
      .get(`${api}/templates`)
      .set('Authorization', user);
    expect(
      list.body.items.map((t: { name: string; editable: boolean }) => [
        t.name,
        t.editable,
      ]),
    ).toEqual([
      ['config-template', false],
      ['db-deploy', true],
    ]);

    const updated = await request(server)
      .put(`${api}/templates/db-deploy`)
      .set('Authorization', user)
      .send(
        template('db-deploy', 'managed-t', {
          approvers: ['bob@example.com'],
          defaultTimeout: '2h',
        }),
      );
    expect(updated.body).toMatchObject({
      approvers: ['bob@example.com'],
      defaultTimeout: 7200,
    });
    expect(
      (
        await request(server)
          .get(`${api}/templates/db-deploy`)
          .set('Authorization', user)
      ).body.approvers,
    ).toEqual(['bob@example.com']);

    const inUse = await request(server)
      .delete(`${api}/integrations/managed-t`)
      .set('Authorization', user);
    expect(inUse.status).toBe(409);
    expect(inUse.body.error.message).toMatch(
      /used by template\(s\) "db-deploy"/,
    );

    expect(
      (
        await request(server)
          .put(`${api}/templates/config-template`)
          .set('Authorization', user)
          .send(template('config-template', 'config-app'))
      ).status,
    ).toBe(409);
    expect(
      (
        await request(server)
          .delete(`${api}/templates/db-deploy`)
          .set('Authorization', user)
      ).status,
    ).toBe(204);
    expect(
      (
        await request(server)
          .get(`${api}/templates/db-deploy`)
          .set('Authorization', user)
      ).status,
    ).toBe(404);
    // Refused changes are audited too (as failures).
    expect(auditEvents).toEqual([
      'template-create',
      'template-update',
      'integration-delete',
      'template-update',
      'template-delete',
    ]);
  });

  it('refuses a template its IM form cannot take, saying why, when it is saved', async () => {
    await fetch(`${sandbox.url}/_sandbox/feishu/approvals`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        approvalCode: 'SOLO',
        name: 'One owner signs',
        form: [{ id: 'widget_service', name: 'Service', type: 'input' }],
        nodes: [
          {
            nodeId: 'node_owner',
            name: 'Owner',
            type: 'OR',
            needApprover: true,
            approverChosenMulti: false,
          },
        ],
      }),
    });
    const several = await request(server)
      .post(`${api}/templates`)
      .set('Authorization', user)
      .send(
        template('solo-deploy', 'managed-t', {
          form: 'SOLO',
          fields: {},
          approvers: ['alice@example.com', 'bob@example.com'],
        }),
      );
    expect(several.status).toBe(400);
    expect(several.body.error.message).toMatch(
      /^body: Feishu approval definition "SOLO"'s node "Owner" takes one approver; the template lists 2/,
    );
    const mode = await request(server)
      .post(`${api}/templates`)
      .set('Authorization', user)
      .send(
        template('and-deploy', 'managed-t', {
          approverMode: 'all',
          approvers: ['alice@example.com', 'bob@example.com'],
        }),
      );
    expect(mode.status).toBe(400);
    expect(mode.body.error.message).toMatch(/^body: .*approverMode/);
    const one = await request(server)
      .post(`${api}/templates`)
      .set('Authorization', user)
      .send(
        template('solo-deploy', 'managed-t', {
          form: 'SOLO',
          fields: {},
          approvers: ['alice@example.com'],
        }),
      );
    expect(one.status).toBe(201);
  });

  it('names bad fields, an unknown integration and a rename', async () => {
    const bad = await request(server)
      .post(`${api}/templates`)
      .set('Authorization', user)
      .send(
        template('bad template', 'managed-t', {
          approvers: [],
          defaultTimeout: 'soon',
        }),
      );
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(
      /body\.name: expected letters, digits/,
    );
    expect(bad.body.error.message).toMatch(/body\.approvers: /);
    expect(bad.body.error.message).toMatch(
      /body\.defaultTimeout: expected a duration/,
    );

    const unknown = await request(server)
      .post(`${api}/templates`)
      .set('Authorization', user)
      .send(template('orphan', 'nope'));
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.message).toBe(
      'body.integration: there is no integration "nope"',
    );

    await request(server)
      .post(`${api}/templates`)
      .set('Authorization', user)
      .send(template('keep-name', 'managed-t'));
    const renamed = await request(server)
      .put(`${api}/templates/keep-name`)
      .set('Authorization', user)
      .send(template('new-name', 'managed-t'));
    expect(renamed.status).toBe(400);
  });

  it.each([
    [
      'a form id that is a path',
      { form: '..' },
      /^body\.form: expected the IM form's id/,
    ],
    [
      'a form id with whitespace',
      { form: 'DEPLOY X' },
      /^body\.form: expected the IM form's id/,
    ],
    [
      'an over-long form id',
      { form: 'A'.repeat(129) },
      /^body\.form: expected at most 128 characters$/,
    ],
    [
      'a name longer than its column',
      { name: 'a'.repeat(101) },
      /^body\.name: expected letters, digits, dots, dashes and underscores \(at most 100/,
    ],
    [
      'a title with NUL',
      { title: 'Deploy\u0000' },
      /^body\.title: must not contain the NUL character/,
    ],
    [
      'an over-long approver',
      { approvers: [`${'a'.repeat(250)}@example.com`] },
      /^body\.approvers\.0: expected at most 255 characters$/,
    ],
    [
      'a field text with NUL',
      { fields: { Service: '${vars.service}\u0000' } },
      /^body\.fields\.Service: must not contain the NUL character/,
    ],
    [
      'a policy pattern with NUL',
      { policy: { repositories: ['acme/\u0000'] } },
      /^body\.policy\.repositories\.0: must not contain the NUL character/,
    ],
    [
      'an over-long description',
      { description: 'd'.repeat(2001) },
      /^body\.description: expected at most 2000 characters$/,
    ],
  ])(
    'refuses %s with a 400 naming the field, and stores nothing',
    async (_, overrides, message) => {
      const created = await request(server)
        .post(`${api}/templates`)
        .set('Authorization', user)
        .send(template('bounded-template', 'managed-t', overrides));
      expect(created.status).toBe(400);
      expect(created.body.error.message).toMatch(message);
      expect(
        (
          await request(server)
            .get(`${api}/templates/bounded-template`)
            .set('Authorization', user)
        ).status,
      ).toBe(404);

      await request(server)
        .post(`${api}/templates`)
        .set('Authorization', user)
        .send(template('bounded-kept', 'managed-t'));
      const updated = await request(server)
        .put(`${api}/templates/bounded-kept`)
        .set('Authorization', user)
        .send(template('bounded-kept', 'managed-t', overrides));
      expect(updated.status).toBe(400);
      expect(
        (
          await request(server)
            .get(`${api}/templates/bounded-kept`)
            .set('Authorization', user)
        ).body,
      ).toMatchObject({ form: 'DEPLOY', title: template('x', 'y').title });
    },
  );

  it.each([
    ['get', 'a'.repeat(101)],
    ['put', 'a'.repeat(101)],
    ['delete', 'a'.repeat(101)],
    ['post', `${'a'.repeat(101)}/test`],
    ['get', '.hidden'],
  ] as const)(
    '%s /templates/%s answers 400 naming path.name',
    async (method, path) => {
      const response = await request(server)
        [method](`${api}/templates/${path}`)
        .set('Authorization', user)
        .send(template('x', 'managed-t'));
      expect(response.status).toBe(400);
      expect(response.body.error.message).toMatch(
        /^path\.name: expected letters, digits, dots, dashes and underscores/,
      );
    },
  );

  it('refuses a test approval with text the database cannot hold, naming the field, and opens nothing', async () => {
    await request(server)
      .post(`${api}/templates`)
      .set('Authorization', user)
      .send(template('nul-test', 'managed-t'));
    for (const [body, message] of [
      [
        { variables: { service: 'pay\u0000ments' } },
        /^body\.variables\.service: must not contain the NUL character/,
      ],
      [
        { title: 'x'.repeat(201) },
        /^body\.title: expected at most 200 characters$/,
      ],
      [
        { context: { repository: 'acme/\u0000' } },
        /^body\.context\.repository: must not contain the NUL character/,
      ],
    ] as const) {
      const response = await request(server)
        .post(`${api}/templates/nul-test/test`)
        .set('Authorization', user)
        .send(body);
      expect(response.status).toBe(400);
      expect(response.body.error.message).toMatch(message);
    }
    expect(
      (
        await request(server)
          .get(`${api}/approvals?template=nul-test`)
          .set('Authorization', user)
      ).body.totalCount,
    ).toBe(0);
  });

  it("keeps a test approval pending through an outage of Feishu's token endpoint, for the reconciler to open later", async () => {
    await request(server)
      .post(`${api}/integrations`)
      .set('Authorization', user)
      .send(feishuApp('outage-app'));
    await request(server)
      .post(`${api}/templates`)
      .set('Authorization', user)
      .send(template('outage-test', 'outage-app'));
    // Saving checked the template against Feishu with a token; the next call must fetch a new one.
    await fetch(`${sandbox.url}/_sandbox/feishu/tokens/expire`, {
      method: 'POST',
    });
    await fault('token', 1, 503);
    const sent = await request(server)
      .post(`${api}/templates/outage-test/test`)
      .set('Authorization', user)
      .send({ variables: { service: 'api' } });
    expect(sent.status).toBe(201);
    expect(sent.body.status).toBe('pending');
    expect(sent.body.imInstanceId ?? undefined).toBeUndefined();
    const { timeline } = (
      await request(server)
        .get(`${api}/approvals/${sent.body.id}`)
        .set('Authorization', user)
    ).body;
    expect(timeline).toContainEqual(
      expect.objectContaining({
        type: 'im_error',
        message: expect.stringMatching(
          /HTTP 503 .*an outage at Feishu.*retrying later/,
        ),
      }),
    );
    expect(JSON.stringify(timeline)).not.toMatch(/check the app id and secret/);
  });

  it('sends a real test approval with sample values, on behalf of the user', async () => {
    await request(server)
      .post(`${api}/templates`)
      .set('Authorization', user)
      .send(template('to-test', 'managed-t'));
    const sent = await request(server)
      .post(`${api}/templates/to-test/test`)
      .set('Authorization', user)
      .send({ variables: { service: 'payments' } });
    expect(sent.status).toBe(201);
    expect(sent.body).toMatchObject({
      status: 'pending',
      template: 'to-test',
      integration: 'managed-t',
      title: '[Test] Deploy payments from example/repository',
      context: {
        test: true,
        verified: false,
        caller: 'user:default/mock',
        actor: 'user:default/mock',
      },
      form: [
        { field: 'Service', value: 'payments' },
        { field: 'Reason', value: 'sample reason' },
        {
          field: 'Run',
          value: 'https://github.com/example/repository/actions/runs/0',
        },
      ],
    });
    expect([sent.body.imInstanceId, sent.body.error]).toEqual([
      expect.any(String),
      null,
    ]);
    const instance = await fetch(
      `${sandbox.url}/_sandbox/feishu/instances/${sent.body.imInstanceId}`,
    ).then(r => r.json());
    expect(instance).toMatchObject({ approvalCode: 'DEPLOY' });
    expect(auditEvents).toEqual(['template-create', 'template-test']);

    const service = await request(server)
      .post(`${api}/templates/to-test/test`)
      .set('Authorization', mockCredentials.service.header())
      .send({});
    expect(service.status).toBe(403);
  });
});

describe('approvals for people', () => {
  let approvalId: string;

  beforeAll(async () => {
    await request(server)
      .post(`${api}/templates`)
      .set('Authorization', user)
      .send(template('decide-me', 'config-app'));
    const sent = await request(server)
      .post(`${api}/templates/decide-me/test`)
      .set('Authorization', user)
      .send({ title: 'Searchable Zebra rollout' });
    approvalId = sent.body.id;
  });

  it('filters by text, status and template, with a total for paging', async () => {
    const found = await request(server)
      .get(`${api}/approvals?q=zebra&limit=1`)
      .set('Authorization', user);
    expect(found.body).toMatchObject({ totalCount: 1, limit: 1, offset: 0 });
    expect(found.body.items[0].id).toBe(approvalId);
    expect(
      (
        await request(server)
          .get(`${api}/approvals?q=50%25_off`)
          .set('Authorization', user)
      ).body.totalCount,
    ).toBe(0);
    expect(
      (
        await request(server)
          .get(`${api}/approvals?template=decide-me&status=approved`)
          .set('Authorization', user)
      ).body.totalCount,
    ).toBe(0);
    const all = await request(server)
      .get(`${api}/approvals?limit=1&offset=1`)
      .set('Authorization', user);
    expect(all.body.totalCount).toBeGreaterThanOrEqual(2);
    expect(all.body.items).toHaveLength(1);
    const bad = await request(server)
      .get(`${api}/approvals?status=done&limit=0`)
      .set('Authorization', user);
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/query\.status: .*query\.limit: /);
  });

  it('lets an administrator decide with a reason, once, audited', async () => {
    allowed = new Set(['im-approval.approval.read']);
    const denied = await request(server)
      .post(`${api}/approvals/${approvalId}/decision`)
      .set('Authorization', user)
      .send({ decision: 'approved', comment: 'ok' });
    expect(denied.status).toBe(403);
    expect(denied.body.error.message).toBe(
      `You need the im-approval.approval.decide permission for approval ${approvalId}`,
    );

    allowed = new Set(ALL);
    // The user sent this test approval: they are its requester, and may not approve it themselves.
    const own = await request(server)
      .post(`${api}/approvals/${approvalId}/decision`)
      .set('Authorization', user)
      .send({ decision: 'approved', comment: 'my own' });
    expect(own.status).toBe(403);
    expect(own.body.error.message).toMatch(
      /^You requested approval .*, so you cannot approve it/,
    );
    const admin = mockCredentials.user.header('user:default/admin');
    const decided = await request(server)
      .post(`${api}/approvals/${approvalId}/decision`)
      .set('Authorization', admin)
      .send({ decision: 'approved', comment: 'verified by phone' });
    expect(decided.status).toBe(200);
    expect(decided.body).toMatchObject({
      status: 'approved',
      decidedBy: 'user:default/admin',
      decidedById: 'user:default/admin',
      comment: 'verified by phone',
    });
    const again = await request(server)
      .post(`${api}/approvals/${approvalId}/decision`)
      .set('Authorization', user)
      .send({ decision: 'rejected', comment: 'no' });
    expect(again.status).toBe(409);
    // The refused attempt is audited too.
    expect(auditEvents).toEqual([
      'approval-decide',
      'approval-decide',
      'approval-decide',
    ]);
    const timeline = (
      await request(server)
        .get(`${api}/approvals/${approvalId}`)
        .set('Authorization', user)
    ).body.timeline;
    expect(timeline).toContainEqual(
      expect.objectContaining({
        type: 'approved',
        source: 'admin',
        message: 'verified by phone',
      }),
    );
  });
});

describe('permissions', () => {
  const body = {};
  it.each([
    [
      'get',
      '/integrations',
      'im-approval.integration.manage or the im-approval.template.manage',
    ],
    [
      'get',
      '/integrations/config-app',
      'im-approval.integration.manage or the im-approval.template.manage',
    ],
    [
      'get',
      '/integrations/config-app/forms/DEPLOY',
      'im-approval.integration.manage or the im-approval.template.manage',
    ],
    ['post', '/integrations', 'im-approval.integration.manage'],
    ['put', '/integrations/config-app', 'im-approval.integration.manage'],
    ['delete', '/integrations/config-app', 'im-approval.integration.manage'],
    ['post', '/integrations/config-app/test', 'im-approval.integration.manage'],
    [
      'get',
      '/templates',
      'im-approval.template.manage or the im-approval.approval.read',
    ],
    [
      'get',
      '/templates/config-template',
      'im-approval.template.manage or the im-approval.approval.read',
    ],
    ['post', '/templates', 'im-approval.template.manage'],
    ['put', '/templates/config-template', 'im-approval.template.manage'],
    ['delete', '/templates/config-template', 'im-approval.template.manage'],
    ['post', '/templates/config-template/test', 'im-approval.template.manage'],
    ['get', '/approvals', 'im-approval.approval.read'],
  ] as const)(
    '%s %s needs %s and changes nothing without it',
    async (method, path, permissions) => {
      allowed = new Set();
      const response = await request(server)
        [method](`${api}${path}`)
        .set('Authorization', user)
        .send(body);
      expect(response.status).toBe(403);
      expect(response.body.error.message).toBe(
        `You need the ${permissions} permission`,
      );
      expect(auditEvents).toEqual([]);
    },
  );

  it('lets a template editor read integrations and forms, but not change integrations', async () => {
    allowed = new Set(['im-approval.template.manage']);
    expect(
      (
        await request(server)
          .get(`${api}/integrations`)
          .set('Authorization', user)
      ).status,
    ).toBe(200);
    expect(
      (
        await request(server)
          .get(`${api}/integrations/config-app/forms/DEPLOY`)
          .set('Authorization', user)
      ).status,
    ).toBe(200);
    expect(
      (
        await request(server)
          .post(`${api}/integrations/config-app/test`)
          .set('Authorization', user)
      ).status,
    ).toBe(403);
  });

  it('asks for Backstage credentials on every settings route', async () => {
    expect((await request(server).get(`${api}/integrations`)).status).toBe(401);
    expect(
      (
        await request(server)
          .post(`${api}/templates`)
          .send(template('x', 'config-app'))
      ).status,
    ).toBe(401);
  });
});
