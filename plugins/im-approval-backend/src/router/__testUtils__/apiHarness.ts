import {
  coreServices,
  createServiceFactory,
} from '@backstage/backend-plugin-api';
import type { JsonObject } from '@backstage/types';
import {
  mockCredentials,
  mockServices,
  startTestBackend,
  TestDatabases,
  type TestDatabaseId,
} from '@backstage/backend-test-utils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { startSandbox, type Sandbox } from '@im-approval/im-sandbox';
import {
  APP,
  DINGTALK_APP,
  TEST_SEED,
  WECOM_APP,
  WECOM_CORP_ID,
  WECOM_TEMPLATE_ID,
} from '@im-approval/im-sandbox/testing';
import knexFactory, { type Knex } from 'knex';
import type { Server } from 'node:http';
import request from 'supertest';
import { imApprovalPlugin } from '../../plugin';
import { exampleCatalog } from './exampleCatalog';
import { startTestOidcIssuer, type TestOidcIssuer } from './oidcIssuer';

// One backend as production runs it (the plugin, its migrations, a real database), with IMs from
// the sandbox, a GitHub OIDC issuer on loopback and one signed-in user per permission left out.

/** An integration of `provider` pointed at the sandbox's seeded app, as app-config or a create request gives it. */
export function sandboxIntegration(
  provider: 'feishu' | 'dingtalk' | 'wecom',
  id: string,
  baseUrl: string,
): JsonObject {
  switch (provider) {
    case 'dingtalk': {
      const { appKey, appSecret, agentId, token, aesKey } = DINGTALK_APP;
      return {
        id,
        provider,
        baseUrl,
        legacyBaseUrl: baseUrl,
        appKey,
        appSecret,
        agentId,
        token,
        aesKey,
        initiator: 'bot',
      };
    }
    case 'wecom': {
      const { agentId, secret, token, encodingAesKey } = WECOM_APP;
      return {
        id,
        provider,
        baseUrl,
        corpId: WECOM_CORP_ID,
        agentId,
        secret,
        token,
        encodingAESKey: encodingAesKey,
        initiator: 'bot',
      };
    }
    default:
      return { id, provider, baseUrl, ...APP, initiator: 'bot@example.com' };
  }
}

export const API = '/api/im-approval';
export const SECRETS_KEY = Buffer.alloc(32, 7).toString('base64');

/** Repository owners whose workflows the backend trusts; `initech` is not one of them. */
export const ALLOWED_OWNERS = ['acme', 'globex'];

/** The plugin's permissions, by name: the tests must not depend on which of them the common package exports yet. */
export const PERMISSIONS = [
  'im-approval.integration.manage',
  'im-approval.template.manage',
  'im-approval.approval.create',
  'im-approval.approval.read',
  'im-approval.approval.decide',
] as const;
export type PermissionName = (typeof PERMISSIONS)[number];

/** A signed-in user who has every permission but the one named. */
export const userWithout = (permission: PermissionName) =>
  `user:default/without-${permission}`;
export const USER_WITH_ALL = 'user:default/admin';

function deniedFor(userEntityRef: string | undefined): Set<string> {
  const match = userEntityRef?.match(/^user:default\/without-(.+)$/);
  return new Set(match ? [match[1]] : []);
}

export const INTEGRATIONS = {
  feishu: 'feishu-main',
  dingtalk: 'dingtalk-main',
  wecom: 'wecom-main',
} as const;

export function imApprovalConfig(sandbox: Sandbox, issuer: TestOidcIssuer) {
  const approvers = ['alice@example.com'];
  return {
    imApproval: {
      secretsKey: SECRETS_KEY,
      github: {
        oidc: {
          issuer: issuer.issuer,
          audience: issuer.audience,
          allowedOwners: ALLOWED_OWNERS,
        },
        app: {
          appId: sandbox.github.appId,
          privateKey: sandbox.github.privateKeyPem,
          webhookSecret: sandbox.github.webhookSecret,
          apiBaseUrl: sandbox.github.apiUrl,
        },
      },
      gates: [
        {
          name: 'production',
          environments: ['production'],
          repositories: ['acme/*'],
          template: 'production',
          variables: { service: 'api' },
        },
      ],
      integrations: (['feishu', 'dingtalk', 'wecom'] as const).map(provider =>
        sandboxIntegration(provider, INTEGRATIONS[provider], sandbox.url),
      ),
      templates: [
        {
          name: 'deploy',
          integration: INTEGRATIONS.feishu,
          form: 'DEPLOY',
          title: 'Deploy ${vars.service} from ${repository}',
          fields: { Service: '${vars.service}', Reason: 'release' },
          approvers,
          approverMode: 'any',
          allowApproverOverride: true,
          maxTimeout: '2d',
          policy: { repositories: ['acme/*'], refs: ['refs/heads/main'] },
        },
        {
          name: 'production',
          integration: INTEGRATIONS.feishu,
          form: 'DEPLOY',
          fields: { Service: '${vars.service}', Reason: 'to production' },
          approvers,
          approverMode: 'any',
          allowApproverOverride: true,
          maxTimeout: '2d',
          policy: {
            repositories: ['acme/*'],
            refs: ['refs/heads/main'],
            environments: ['production'],
          },
        },
        {
          name: 'made-form',
          integration: INTEGRATIONS.feishu,
          form: { create: true },
          fields: { Service: '${vars.service}' },
          stages: [
            { name: 'Team lead', approvers, rule: 'any' },
            { name: 'SRE', approvers: ['ou_bob'], rule: 'all' },
          ],
        },
        {
          name: 'dingtalk-deploy',
          integration: INTEGRATIONS.dingtalk,
          form: 'PROC-DEPLOY',
          fields: { Service: 'api' },
          approvers: ['alice'],
        },
        {
          name: 'wecom-deploy',
          integration: INTEGRATIONS.wecom,
          form: WECOM_TEMPLATE_ID,
          fields: { Service: 'api' },
          approvers: ['alice'],
        },
      ],
    },
  };
}

export interface ApiBackend {
  server: Server;
  knex: Knex;
  sandbox: Sandbox;
  issuer: TestOidcIssuer;
  databaseId: TestDatabaseId;
  close(): Promise<void>;
}

/** SQLite always; PostgreSQL when a connection string is set (CI sets it; Docker is never started for it). */
export function testDatabases(): TestDatabases {
  const databases = TestDatabases.create({
    ids: ['SQLITE_3', 'POSTGRES_15'],
    disableDocker: true,
  });
  if (!databases.supports('POSTGRES_15')) {
    // eslint-disable-next-line no-console
    console.warn(
      'BACKSTAGE_TEST_DATABASE_POSTGRES15_CONNECTION_STRING is not set: these tests run on SQLite only',
    );
  }
  return databases;
}

export async function startApiBackend(
  databases: TestDatabases,
  databaseId: TestDatabaseId,
  /** Changes the configuration before the backend starts (e.g. leaves the GitHub App out). */
  adjust: (config: ReturnType<typeof imApprovalConfig>) => object = config =>
    config,
  options: {
    /** More plugins and services: the catalog backend, a recording notification service… */
    features?: Parameters<typeof startTestBackend>[0]['features'];
    /** `from-features`: the features bring the permissions service instead of the harness's mock. */
    permissions?: 'mock' | 'from-features';
    /** The real catalog backend with `examples/`, read before the backend is handed over. */
    catalog?: boolean;
  } = {},
): Promise<ApiBackend> {
  const knex = await databases.init(databaseId);
  const sandbox = await startSandbox({
    port: 0,
    seed: TEST_SEED,
    callbackRetryDelaysMs: [],
  });
  const issuer = await startTestOidcIssuer();
  const { server } = await startTestBackend({
    features: [
      imApprovalPlugin,
      mockServices.rootConfig.factory({
        data: {
          ...(adjust(imApprovalConfig(sandbox, issuer)) as JsonObject),
          ...(options.catalog && exampleCatalog.config),
        },
      }),
      // The plugin's database is the one under test; another plugin (the catalog) gets its own.
      createServiceFactory({
        service: coreServices.database,
        deps: { plugin: coreServices.pluginMetadata },
        factory: ({ plugin }) => {
          const client =
            plugin.getId() === 'im-approval'
              ? knex
              : knexFactory({
                  client: 'better-sqlite3',
                  connection: ':memory:',
                  useNullAsDefault: true,
                });
          return { getClient: async () => client };
        },
      }),
      // No reconciler or expiry pass runs behind a test's back: what changes, a request changed.
      mockServices.scheduler.mock().factory,
      ...(options.permissions === 'from-features'
        ? []
        : [
            mockServices.permissions.mock({
              // The catalog asks conditionally; everything is allowed there.
              authorizeConditional: async requests =>
                requests.map(() => ({ result: AuthorizeResult.ALLOW })),
              authorize: async (requests, authorizeOptions) => {
                const principal = authorizeOptions?.credentials?.principal as
                  { userEntityRef?: string } | undefined;
                const denied = deniedFor(principal?.userEntityRef);
                return requests.map(r => ({
                  result: denied.has(r.permission.name)
                    ? AuthorizeResult.DENY
                    : AuthorizeResult.ALLOW,
                }));
              },
            }).factory,
          ]),
      // Without this the mock treats a request with no token as a signed-in user.
      mockServices.httpAuth.factory({
        defaultCredentials: mockCredentials.none(),
      }),
      ...(options.catalog ? [exampleCatalog.plugin] : []),
      ...(options.features ?? []),
    ],
  });
  if (options.catalog) await exampleCatalog.read(server);
  return {
    server,
    knex,
    sandbox,
    issuer,
    databaseId,
    async close() {
      await sandbox.close();
      await issuer.close();
    },
  };
}

/** What was written to the plugin's tables since the last look: one `table operation` per row written. */
export interface ChangeLog {
  take(): Promise<string[]>;
}

/**
 * Triggers on every table of the plugin that note each row inserted, updated or deleted, so a
 * test can tell exactly whether a request wrote anything, at the cost of one query however big
 * the tables grow.
 */
export async function installChangeLog(knex: Knex): Promise<ChangeLog> {
  const postgres = knex.client.config.client === 'pg';
  const tables: string[] = postgres
    ? (
        await knex('pg_tables')
          .select('tablename')
          .whereRaw('schemaname = current_schema()')
      ).map(r => r.tablename)
    : (await knex('sqlite_master').select('name').where({ type: 'table' })).map(
        r => r.name,
      );
  await knex.schema.createTable('test_changes', table => {
    table.increments('id');
    table.string('tbl').notNullable();
    table.string('op').notNullable();
  });
  if (postgres) {
    await knex.raw(`create or replace function test_note_change() returns trigger as $$
      begin insert into test_changes (tbl, op) values (TG_TABLE_NAME, TG_OP); return null; end $$ language plpgsql`);
  }
  for (const table of tables.filter(name => name.startsWith('im_approval'))) {
    if (postgres) {
      await knex.raw(
        `create trigger test_note_change after insert or update or delete on "${table}" for each row execute function test_note_change()`,
      );
    } else {
      for (const op of ['INSERT', 'UPDATE', 'DELETE']) {
        await knex.raw(
          `create trigger "test_note_${table}_${op}" after ${op} on "${table}" begin insert into test_changes (tbl, op) values ('${table}', '${op}'); end`,
        );
      }
    }
  }
  return {
    async take() {
      const rows = await knex('test_changes').select('tbl', 'op').orderBy('id');
      if (rows.length > 0) await knex('test_changes').delete();
      return rows.map(row => `${row.tbl} ${row.op}`);
    },
  };
}

/** Answers when the backend is alive and its database usable through the API. */
export async function checkHealthy(server: Server): Promise<void> {
  const live = await request(server).get('/.backstage/health/v1/liveness');
  if (live.status !== 200) throw new Error(`liveness answered ${live.status}`);
  const list = await request(server)
    .get(`${API}/approvals?limit=1`)
    .set('Authorization', mockCredentials.service.header());
  if (list.status !== 200)
    throw new Error(
      `GET /approvals answered ${list.status}: ${JSON.stringify(list.body)}`,
    );
}
