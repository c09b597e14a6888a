import { z } from 'zod';
import { durationSchema } from './duration';
import { settingsSourceSchema } from './settingsSource';
import { templateNameSchema } from './templates';
import { storableText, TEXT_LIMITS } from './text';

const patternsSchema = z
  .array(storableText(TEXT_LIMITS.pattern, { min: 1 }))
  .min(1, 'list at least one pattern')
  .max(
    TEXT_LIMITS.listItems,
    `expected at most ${TEXT_LIMITS.listItems} patterns`,
  );

/**
 * A deployment gate: which GitHub environments, in which repositories, wait for an IM approval
 * opened from which template, with no runner held (custom deployment protection rules).
 *
 * @public
 */
export const gateSchema = z
  .object({
    name: templateNameSchema,
    /** Environment names or glob patterns (`production`, `prod-*`), matched without case. */
    environments: patternsSchema,
    /** `owner/name` globs (`acme/*`); absent means every repository the GitHub App is installed on. */
    repositories: patternsSchema.optional(),
    template: templateNameSchema,
    /**
     * `vars.NAME` values for the template, beside the event's own (`vars.event`, `vars.pullRequests`);
     * they may use the run's `${…}` values (`${repository}`, `${ref}`, `${actor}`, …).
     */
    variables: z
      .record(
        storableText(TEXT_LIMITS.fieldName, { min: 1 }),
        storableText(TEXT_LIMITS.fieldText),
      )
      .default({}),
    /** How long approvers have; the template's default timeout when absent, never more than its maximum. */
    timeout: durationSchema.optional(),
  })
  .meta({ id: 'Gate' });
/** @public */
export type Gate = z.output<typeof gateSchema>;

/**
 * POST /gates, and PUT /gates/{name} (whose body names the same gate: names never change).
 *
 * @public
 */
export const gateRequestSchema = gateSchema.meta({ id: 'GateRequest' });
/** @public */
export type GateRequest = z.input<typeof gateRequestSchema>;

/** @public */
export const gateViewSchema = gateSchema
  .safeExtend({
    source: settingsSourceSchema,
    /** False for gates from app-config: they change only there. */
    editable: z.boolean(),
  })
  .meta({ id: 'GateView' });
/** @public */
export type GateView = z.output<typeof gateViewSchema>;

/**
 * The GitHub App the backend acts as: from app-config (read-only) or saved in Backstage (its private
 * key and webhook secret encrypted, never returned).
 *
 * @public
 */
export const githubAppViewSchema = z
  .object({
    source: settingsSourceSchema,
    editable: z.boolean(),
    appId: z.string(),
    apiBaseUrl: z.string(),
  })
  .meta({ id: 'GithubAppView' });
/** @public */
export type GithubAppView = z.infer<typeof githubAppViewSchema>;

const pemSchema = z
  .string()
  .max(16_384)
  .refine(
    key => /-----BEGIN (RSA )?PRIVATE KEY-----/.test(key),
    'expected the App’s private key, a PEM file’s text (-----BEGIN RSA PRIVATE KEY----- …)',
  );

/**
 * PUT /github/app. The private key and the webhook secret are write-only: left out, the stored ones
 * stay (both are required the first time).
 *
 * @public
 */
export const githubAppRequestSchema = z
  .object({
    appId: z.union([
      z.number().int().positive().transform(String),
      z
        .string()
        .regex(
          /^\d{1,20}$|^Iv[\w.]{1,60}$/,
          'expected the App ID (or its client ID)',
        ),
    ]),
    apiBaseUrl: z
      .url({ protocol: /^https?$/, error: 'expected an http(s) URL' })
      .max(2000)
      .default('https://api.github.com')
      .transform(url => url.replace(/\/+$/, '')),
    privateKey: pemSchema.optional(),
    webhookSecret: storableText(255, { min: 1 }).optional(),
  })
  .meta({ id: 'GithubAppRequest' });
/** @public */
export type GithubAppRequest = z.input<typeof githubAppRequestSchema>;

/**
 * What became of one webhook delivery GitHub sent: the answer it got and why.
 *
 * @public
 */
export const githubDeliverySchema = z
  .object({
    /** X-GitHub-Delivery; absent when a refused request did not carry one. */
    id: z.string().nullable(),
    event: z.string().nullable(),
    action: z.string().nullable(),
    receivedAt: z.iso.datetime(),
    outcome: z.enum(['accepted', 'ignored', 'duplicate', 'refused']),
    message: z.string(),
  })
  .meta({ id: 'GithubDelivery' });
/** @public */
export type GithubDelivery = z.infer<typeof githubDeliverySchema>;

/**
 * What a platform engineer needs to connect the GitHub App, and what it has received.
 *
 * @public
 */
export const githubSetupSchema = z
  .object({
    /** The App, from app-config or saved here; null until one is. */
    app: githubAppViewSchema.nullable(),
    /** Whether an App can be saved here (`imApproval.secretsKey` encrypts its key and secret). */
    appEditable: z.boolean(),
    /** Paste into the GitHub App's "Webhook URL". */
    webhookUrl: z.string(),
    permissions: z.array(z.object({ name: z.string(), access: z.string() })),
    events: z.array(z.string()),
    /** In the order they are matched: app-config's first, then those saved here by name. */
    gates: z.array(gateViewSchema),
    /** The latest first: accepted ones from the database, refused ones from this replica's memory. */
    deliveries: z.array(githubDeliverySchema),
  })
  .meta({ id: 'GithubSetup' });
/** @public */
export type GithubSetup = z.infer<typeof githubSetupSchema>;
