import { z } from 'zod';

const repositorySchema = z.object({
  full_name: z.string().regex(/^[^/\s]+\/[^/\s]+$/, 'expected owner/name'),
  html_url: z.string().optional(),
});
const installationSchema = z.object({ id: z.number().int().positive() });
const idSchema = z.union([z.number().int(), z.string().regex(/^\d+$/)]);

/** The path GitHub gives a held job's callback: the run's deployment protection rule review. */
export const CALLBACK_PATH =
  /\/repos\/([^/]+)\/([^/]+)\/actions\/runs\/(\d+)\/deployment_protection_rule$/;

/**
 * `deployment_protection_rule`: a job targets an environment on which this app is a protection
 * rule, and GitHub holds it until the app answers the callback URL.
 */
export const deploymentProtectionRuleSchema = z.object({
  action: z.literal('requested'),
  environment: z.string().min(1),
  event: z.string().optional(),
  sha: z.string().optional(),
  ref: z.string().optional(),
  deployment_callback_url: z
    .string()
    .refine(
      url => URL.canParse(url) && CALLBACK_PATH.test(new URL(url).pathname),
      'expected …/repos/OWNER/REPO/actions/runs/RUN_ID/deployment_protection_rule',
    ),
  deployment: z
    .object({
      id: idSchema,
      sha: z.string().optional(),
      ref: z.string().optional(),
      creator: z.object({ login: z.string() }).nullish(),
    })
    .nullish(),
  pull_requests: z
    .array(z.object({ number: z.number().int() }).loose())
    .optional(),
  repository: repositorySchema,
  installation: installationSchema,
  sender: z.object({ login: z.string() }).optional(),
});
export type DeploymentProtectionRuleEvent = z.infer<
  typeof deploymentProtectionRuleSchema
>;

/** `workflow_run` and `workflow_job`: only their completion matters here (a held job's run is gone). */
export const workflowRunSchema = z.object({
  action: z.string(),
  workflow_run: z.object({ id: idSchema, conclusion: z.string().nullish() }),
  repository: repositorySchema,
});
export const workflowJobSchema = z.object({
  action: z.string(),
  workflow_job: z.object({
    run_id: idSchema,
    conclusion: z.string().nullish(),
  }),
  repository: repositorySchema,
});
