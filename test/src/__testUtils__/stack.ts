import {
  startGithubOidcIssuer,
  startSandbox,
  type GithubOidcIssuer,
  type Sandbox,
  type SandboxOptions,
} from '@im-approval/im-sandbox';
import type {
  Approval,
  ApprovalWithTimeline,
} from '@im-approval/plugin-im-approval-common';
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { startBackendProcess, type BackendProcess } from './backendProcess';
import { FEISHU_APP, feishuCallback, mergeSeeds, type ImSetup } from './ims';

export const POSTGRES_URL =
  process.env.IM_APPROVAL_TEST_POSTGRES_URL ??
  'postgresql://postgres@127.0.0.1:5432/postgres';
export const STATIC_TOKEN = 'im-approval-local-dev-token';
export const INTEGRATION = feishuCallback.integrationId;
export { FEISHU_APP };

export const RUN = {
  repository: 'acme/api',
  repository_owner: 'acme',
  ref: 'refs/heads/main',
  sha: '0123abcd',
  actor: 'octocat',
  workflow: 'deploy',
  environment: 'production',
  run_id: '1001',
  run_attempt: '1',
};

function backendConfig(
  port: number,
  sandbox: Sandbox,
  issuer: GithubOidcIssuer,
  database: object,
  options: {
    reconcileSeconds: number;
    ims: ImSetup[];
    templates: object[];
    gates?: object[];
    githubApp?: boolean;
  },
) {
  const { github } = sandbox;
  return {
    backend: {
      baseUrl: `http://127.0.0.1:${port}`,
      listen: { port, host: '127.0.0.1' },
      database,
    },
    imApproval: {
      github: {
        oidc: {
          issuer: issuer.issuer,
          audience: 'im-approval',
          allowedOwners: ['acme'],
        },
        ...((options.gates || options.githubApp) && {
          app: {
            appId: github.appId,
            privateKey: github.privateKeyPem,
            webhookSecret: github.webhookSecret,
            apiBaseUrl: github.apiUrl,
          },
        }),
      },
      ...(options.gates && { gates: options.gates }),
      reconciler: { frequency: { seconds: options.reconcileSeconds } },
      expiry: { frequency: { seconds: 1 } },
      reminders: { frequency: { seconds: 1 } },
      integrations: options.ims.map(setup => setup.integration(sandbox)),
      templates: [
        ...options.ims.map(setup => ({
          name: setup.template,
          integration: setup.integrationId,
          ...setup.templateConfig,
        })),
        ...options.templates,
      ],
    },
  };
}

export interface Stack {
  sandbox: Sandbox;
  issuer: GithubOidcIssuer;
  backends: BackendProcess[];
  stop(): Promise<void>;
}

export type DatabaseKind = 'sqlite' | 'postgres';

export interface StackOptions {
  database: DatabaseKind;
  replicas?: number;
  reconcileSeconds?: number;
  /** The integrations to configure and seed; Feishu over callbacks by default. */
  ims?: ImSetup[];
  sandbox?: Omit<SandboxOptions, 'seed'>;
  /** More templates, beside each setup's own. */
  templates?: object[];
  /** Deployment gates: the backend becomes the sandbox GitHub's App, and its webhook points at the first backend. */
  gates?: object[];
  /** The backend is the sandbox GitHub's App (as with gates), e.g. to count a request's commits. */
  githubApp?: boolean;
  /** More backend configuration on top of the stack's, e.g. sign-in and CORS for a browser. */
  extraConfig?: (port: number) => object;
}

/** The sandbox, a GitHub OIDC issuer and `replicas` backend processes sharing one database. */
export async function startStack(options: StackOptions): Promise<Stack> {
  const ims = options.ims ?? [feishuCallback];
  const sandbox = await startSandbox({
    ...options.sandbox,
    seed: mergeSeeds(ims) as SandboxOptions['seed'],
  });
  const issuer = await startGithubOidcIssuer();
  const runId = randomUUID().slice(0, 8);
  const prefix = `e2e_${runId}_`;
  const database =
    options.database === 'postgres'
      ? { client: 'pg', connection: POSTGRES_URL, prefix }
      : {
          client: 'better-sqlite3',
          connection: { directory: join(tmpdir(), `im-approval-e2e-${runId}`) },
        };
  if (options.database === 'postgres') await assertPostgresReachable();

  const backends: BackendProcess[] = [];
  try {
    for (let i = 0; i < (options.replicas ?? 1); i++) {
      backends.push(
        await startBackendProcess(`${options.database}-${runId}-${i}`, port => [
          backendConfig(port, sandbox, issuer, database, {
            reconcileSeconds: options.reconcileSeconds ?? 600,
            ims,
            templates: options.templates ?? [],
            gates: options.gates,
            githubApp: options.githubApp,
          }),
          options.extraConfig?.(port) ?? {},
        ]),
      );
    }
  } catch (error) {
    await Promise.all(backends.map(b => b.stop()));
    await sandbox.close();
    await issuer.close();
    removeSqliteDirectory(database);
    throw error;
  }
  if (options.gates)
    sandbox.github.webhookUrl = `${backends[0].api}/github/webhook`;
  for (const setup of ims)
    await setup.attach?.(
      (method, path, body) => sandboxControl(sandbox, method, path, body),
      backends[0],
    );

  return {
    sandbox,
    issuer,
    backends,
    async stop() {
      await Promise.all(backends.map(b => b.stop()));
      await sandbox.close();
      await issuer.close();
      if (options.database === 'postgres') await dropDatabases(prefix);
      removeSqliteDirectory(database);
    },
  };
}

/** The SQLite files live in a directory of their own under tmpdir; it goes once the backends stopped. */
function removeSqliteDirectory(database: { connection: unknown }) {
  const { connection } = database;
  if (
    typeof connection === 'object' &&
    connection !== null &&
    'directory' in connection &&
    typeof connection.directory === 'string'
  ) {
    rmSync(connection.directory, { recursive: true, force: true });
  }
}

async function assertPostgresReachable() {
  const client = new Client({
    connectionString: POSTGRES_URL,
    connectionTimeoutMillis: 3000,
  });
  try {
    await client.connect();
  } catch (error) {
    throw new Error(
      `PostgreSQL is not reachable at ${POSTGRES_URL} (${(error as Error).message}). Start it (scripts/test does) or set IM_APPROVAL_TEST_POSTGRES_URL.`,
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function dropDatabases(prefix: string) {
  const client = new Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    const { rows } = await client.query<{ datname: string }>(
      'select datname from pg_database where datname like $1',
      [`${prefix}%`],
    );
    for (const { datname } of rows)
      await client.query(`drop database if exists "${datname}" with (force)`);
  } finally {
    await client.end();
  }
}

export interface ApiResponse<T> {
  status: number;
  body: T;
}

async function requestJson<T>(
  url: string,
  method: string,
  options: { token?: string; body?: unknown } = {},
): Promise<ApiResponse<T>> {
  const response = await fetch(url, {
    method,
    headers: {
      'content-type': 'application/json',
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await response.text();
  return {
    status: response.status,
    body: (text ? JSON.parse(text) : undefined) as T,
  };
}

/** The sandbox's control API; throws on anything but success. */
export async function sandboxControl<T = any>(
  sandbox: Pick<Sandbox, 'url'>,
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  const response = await requestJson<T>(
    `${sandbox.url}/_sandbox${path}`,
    method,
    { body },
  );
  if (response.status >= 400)
    throw new Error(
      `sandbox ${method} ${path}: ${response.status} ${JSON.stringify(response.body)}`,
    );
  return response.body;
}

/** The plugin's API on one backend. */
export function api<T = Approval>(
  backend: BackendProcess,
  method: string,
  path: string,
  options: { token?: string; body?: unknown } = {},
): Promise<ApiResponse<T>> {
  return requestJson<T>(`${backend.api}${path}`, method, options);
}

export function getWithTimeline(
  backend: BackendProcess,
  id: string,
  token: string,
) {
  return api<ApprovalWithTimeline>(backend, 'GET', `/approvals/${id}`, {
    token,
  });
}

/** The message of a Backstage error response. */
export function errorMessage(response: ApiResponse<unknown>): string {
  return (
    (response.body as { error?: { message?: string } } | undefined)?.error
      ?.message ?? `(no error; status ${response.status})`
  );
}
