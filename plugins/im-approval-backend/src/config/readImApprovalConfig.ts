import { readSchedulerServiceTaskScheduleDefinitionFromConfig } from '@backstage/backend-plugin-api';
import type {
  RootConfigService,
  SchedulerServiceTaskScheduleDefinition,
} from '@backstage/backend-plugin-api';
import {
  ConfigReader,
  readDurationFromConfig,
  type Config,
} from '@backstage/config';
import { durationToMilliseconds, type JsonObject } from '@backstage/types';
import {
  describeZodError,
  gateSchema,
  githubAppRequestSchema,
  integrationSchema,
  templateSchema,
  type Gate,
  type Integration,
  type Template,
} from '@im-approval/plugin-im-approval-common';
import { Duration } from 'luxon';
import { z } from 'zod';
import type { GithubAppSettings } from '../github/GithubAppClient';
import type { SecretsKey } from '../settings/SecretBox';

export interface GithubOidcSettings {
  issuer: string;
  jwksUrl: string;
  audience: string;
  allowedOwners: string[];
}

export interface ImApprovalConfig {
  githubServerUrl: string;
  oidc?: GithubOidcSettings;
  /** The backend as a GitHub App, for deployment gates; absent when not configured. */
  githubApp?: GithubAppSettings;
  gates: Gate[];
  /** The Backstage app's URL (`app.baseUrl`), for links from GitHub to an approval. */
  appBaseUrl?: string;
  reconcilerSchedule: SchedulerServiceTaskScheduleDefinition;
  /** The reconciler's interval, from which each integration's reads per pass follow (a minute for cron schedules). */
  reconcilerIntervalSeconds: number;
  reconcilerBatchSize: number;
  expirySchedule: SchedulerServiceTaskScheduleDefinition;
  /** How often due reminders and escalations are sent. */
  remindersSchedule: SchedulerServiceTaskScheduleDefinition;
  callbackMaxAgeSeconds: number;
  /** How often a held long-poll gets a heartbeat. */
  longPollHeartbeatMs: number;
  /** Whether IM calls keep to the IMs' documented rate limits here (`imRateLimits: documented`, the default). */
  keepToImRateLimits: boolean;
  integrations: Integration[];
  templates: Template[];
  /** The first encrypts; all decrypt. Empty when none is configured. */
  secretsKeys: SecretsKey[];
}

const GITHUB_ISSUER = 'https://token.actions.githubusercontent.com';

const oidcSchema = z.object({
  issuer: z.url().default(GITHUB_ISSUER),
  jwksUrl: z.url().optional(),
  audience: z.string().min(1).default('im-approval'),
  allowedOwners: z
    .array(z.string().min(1))
    .min(1, 'list at least one repository owner'),
});

// The same App as the UI saves, with its key and secret required (app-config has nothing to keep).
const githubAppSchema = githubAppRequestSchema.required({
  privateKey: true,
  webhookSecret: true,
});

const imRateLimitsSchema = z.enum(['documented', 'off']);

const KEY_HINT =
  'expected 32 random bytes as base64 (e.g. from `openssl rand -base64 32`) or as 64 hex digits';

const secretsKeySchema = z.string().transform((text, ctx) => {
  const trimmed = text.trim();
  const key = /^[0-9a-f]{64}$/i.test(trimmed)
    ? Buffer.from(trimmed, 'hex')
    : Buffer.from(trimmed, 'base64');
  if (key.length !== 32) {
    ctx.addIssue({ code: 'custom', message: KEY_HINT });
    return z.NEVER;
  }
  return key;
});

const secretsKeysSchema = z
  .array(
    z.object({
      id: z
        .string()
        .regex(
          /^[A-Za-z0-9._-]{1,64}$/,
          'expected letters, digits, dots, dashes or underscores',
        ),
      key: secretsKeySchema,
    }),
  )
  .min(1, 'list at least one key; the first encrypts')
  .refine(
    keys => new Set(keys.map(k => k.id)).size === keys.length,
    'key ids must be unique',
  );

function readSecretsKeys(config: Config | undefined): SecretsKey[] {
  const single = config?.getOptional('secretsKey');
  const list = config?.getOptional('secretsKeys');
  if (single !== undefined && list !== undefined) {
    throw new Error(
      'Invalid im-approval configuration: set imApproval.secretsKey or imApproval.secretsKeys, not both',
    );
  }
  if (single !== undefined)
    return [
      {
        id: 'default',
        key: parse(secretsKeySchema, single, 'imApproval.secretsKey'),
      },
    ];
  if (list !== undefined)
    return parse(secretsKeysSchema, list, 'imApproval.secretsKeys');
  return [];
}

function parse<T extends z.ZodType>(
  schema: T,
  value: unknown,
  where: string,
): z.output<T> {
  const result = schema.safeParse(value);
  if (!result.success) {
    throw new Error(
      `Invalid im-approval configuration: ${describeZodError(result.error, where)}`,
    );
  }
  return result.data;
}

function schedule(
  config: Config | undefined,
  key: string,
  fallback: SchedulerServiceTaskScheduleDefinition,
) {
  const section = config?.getOptionalConfig(key);
  if (!section?.has('frequency')) return fallback;
  // The scheduler wants a timeout beside every frequency; configuration usually sets only the frequency.
  return readSchedulerServiceTaskScheduleDefinitionFromConfig(
    new ConfigReader({
      timeout: fallback.timeout as JsonObject,
      ...section.get<JsonObject>(),
    }),
  );
}

function intervalSeconds(
  definition: SchedulerServiceTaskScheduleDefinition,
): number {
  const { frequency } = definition;
  if (
    typeof frequency === 'object' &&
    ('cron' in frequency || 'trigger' in frequency)
  )
    return 60;
  let duration: Duration;
  if (Duration.isDuration(frequency)) duration = frequency;
  else if (typeof frequency === 'string')
    duration = Duration.fromISO(frequency);
  else duration = Duration.fromObject(frequency);
  return duration.isValid ? Math.max(1, duration.as('seconds')) : 60;
}

function heartbeatMs(config: Config | undefined): number {
  if (!config?.has('longPolls.heartbeat')) return 30_000;
  const ms = durationToMilliseconds(
    readDurationFromConfig(config, { key: 'longPolls.heartbeat' }),
  );
  if (!(ms > 0))
    throw new Error(
      'Invalid im-approval configuration: imApproval.longPolls.heartbeat must be a duration above zero',
    );
  return ms;
}

/** Where an integration's problems are reported: its index, and its id when it has one. */
function integrationPath(item: Config, index: number): string {
  const id = item.getOptional('id');
  return `imApproval.integrations[${index}]${typeof id === 'string' ? ` ("${id}")` : ''}`;
}

/** Reads and validates `imApproval`; throws an error naming the offending key. */
export function readImApprovalConfig(
  rootConfig: RootConfigService | Config,
): ImApprovalConfig {
  const config = rootConfig.getOptionalConfig('imApproval');
  const integrations = (
    config?.getOptionalConfigArray('integrations') ?? []
  ).map((item, index) =>
    parse(integrationSchema, item.get(), integrationPath(item, index)),
  );
  const templates = (config?.getOptionalConfigArray('templates') ?? []).map(
    (item, index) =>
      parse(templateSchema, item.get(), `imApproval.templates[${index}]`),
  );

  const ids = new Set<string>();
  for (const integration of integrations) {
    if (ids.has(integration.id))
      throw new Error(
        `Invalid im-approval configuration: integration id "${integration.id}" is used twice`,
      );
    ids.add(integration.id);
  }
  const names = new Set<string>();
  templates.forEach((template, index) => {
    if (names.has(template.name))
      throw new Error(
        `Invalid im-approval configuration: template name "${template.name}" is used twice`,
      );
    names.add(template.name);
    if (!ids.has(template.integration)) {
      throw new Error(
        `Invalid im-approval configuration: imApproval.templates[${index}].integration: no integration with id "${template.integration}"`,
      );
    }
  });

  const oidcConfig = config?.getOptional('github.oidc');
  const oidc =
    oidcConfig === undefined
      ? undefined
      : parse(oidcSchema, oidcConfig, 'imApproval.github.oidc');

  const appConfig = config?.getOptional('github.app');
  const githubApp =
    appConfig === undefined
      ? undefined
      : parse(githubAppSchema, appConfig, 'imApproval.github.app');
  const gates = (config?.getOptionalConfigArray('gates') ?? []).map(
    (item, index) =>
      parse(gateSchema, item.get(), `imApproval.gates[${index}]`),
  );
  const gateNames = new Set<string>();
  for (const gate of gates) {
    if (gateNames.has(gate.name))
      throw new Error(
        `Invalid im-approval configuration: gate name "${gate.name}" is used twice`,
      );
    gateNames.add(gate.name);
  }

  const reconcilerSchedule = schedule(config, 'reconciler', {
    frequency: { seconds: 30 },
    timeout: { minutes: 5 },
    initialDelay: { seconds: 5 },
  });
  return {
    githubServerUrl: (
      config?.getOptionalString('github.serverUrl') ?? 'https://github.com'
    ).replace(/\/+$/, ''),
    githubApp,
    gates,
    appBaseUrl: rootConfig.getOptionalString('app.baseUrl'),
    oidc: oidc && {
      ...oidc,
      jwksUrl:
        oidc.jwksUrl ?? `${oidc.issuer.replace(/\/+$/, '')}/.well-known/jwks`,
    },
    reconcilerSchedule,
    reconcilerIntervalSeconds: intervalSeconds(reconcilerSchedule),
    reconcilerBatchSize:
      config?.getOptionalNumber('reconciler.batchSize') ?? 200,
    expirySchedule: schedule(config, 'expiry', {
      frequency: { seconds: 30 },
      timeout: { minutes: 5 },
    }),
    remindersSchedule: schedule(config, 'reminders', {
      frequency: { seconds: 30 },
      timeout: { minutes: 5 },
    }),
    callbackMaxAgeSeconds:
      config?.getOptionalNumber('callbacks.maxAgeSeconds') ?? 300,
    longPollHeartbeatMs: heartbeatMs(config),
    keepToImRateLimits:
      parse(
        imRateLimitsSchema,
        config?.getOptional('imRateLimits') ?? 'documented',
        'imApproval.imRateLimits',
      ) === 'documented',
    integrations,
    templates,
    secretsKeys: readSecretsKeys(config),
  };
}
