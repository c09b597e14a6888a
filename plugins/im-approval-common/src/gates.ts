import { z } from 'zod';
import { durationSchema } from './duration';
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
    /** Whether `imApproval.github.app` is configured (app id, private key, webhook secret). */
    configured: z.boolean(),
    appId: z.string().nullable(),
    apiBaseUrl: z.string(),
    /** Paste into the GitHub App's "Webhook URL". */
    webhookUrl: z.string(),
    permissions: z.array(z.object({ name: z.string(), access: z.string() })),
    events: z.array(z.string()),
    gates: z.array(gateSchema),
    /** The latest first: accepted ones from the database, refused ones from this replica's memory. */
    deliveries: z.array(githubDeliverySchema),
  })
  .meta({ id: 'GithubSetup' });
/** @public */
export type GithubSetup = z.infer<typeof githubSetupSchema>;
