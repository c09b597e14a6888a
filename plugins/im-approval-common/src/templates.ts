import { z } from 'zod';
import { durationSchema } from './duration';
import { integrationIdSchema } from './integrations';

export const templateNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, 'expected letters, digits, dots, dashes and underscores');

/** Glob patterns (`my-org/*`, `refs/tags/v*`); absent means no restriction. */
export const templatePolicySchema = z
  .object({
    repositories: z.array(z.string().min(1)).optional(),
    refs: z.array(z.string().min(1)).optional(),
    environments: z.array(z.string().min(1)).optional(),
  })
  .default({});

export const templateSchema = z
  .object({
    name: templateNameSchema,
    description: z.string().optional(),
    integration: integrationIdSchema,
    /** The IM form: Feishu approval_code, DingTalk processCode, WeCom template_id. */
    form: z.string().min(1),
    /** The approval's title; may use `${…}` variables. */
    title: z.string().min(1).default('Approval for ${repository}'),
    /** IM form field (id or name) → text with `${…}` variables. */
    fields: z.record(z.string(), z.string()).default({}),
    /** IM user ids, emails or mobiles. */
    approvers: z.array(z.string().min(1)).min(1),
    approverMode: z.enum(['all', 'any']).default('all'),
    allowApproverOverride: z.boolean().default(false),
    initiator: z.string().min(1).optional(),
    defaultTimeout: durationSchema.default(3600),
    maxTimeout: durationSchema.default(7 * 86400),
    policy: templatePolicySchema,
  })
  .refine(t => t.defaultTimeout <= t.maxTimeout, {
    message: 'defaultTimeout must not exceed maxTimeout',
    path: ['defaultTimeout'],
  });
export type Template = z.output<typeof templateSchema>;
export type TemplatePolicy = Template['policy'];

/** `${name}` in a template's title or fields, spaces allowed inside the braces. */
export const TEMPLATE_PLACEHOLDER = /\$\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}/g;

/** The `${…}` names a template's title and fields use, each once. */
export function placeholdersOf(template: { title: string; fields: Record<string, string> }): string[] {
  const texts = [template.title, ...Object.values(template.fields)];
  return [...new Set(texts.flatMap(text => [...text.matchAll(TEMPLATE_PLACEHOLDER)].map(match => match[1])))];
}

/** The `${…}` names a template can use besides `vars.NAME`, and what each means. */
export const TEMPLATE_VARIABLES = {
  repository: 'owner/name of the repository whose workflow asks',
  ref: 'the git ref, e.g. refs/heads/main',
  sha: 'the commit SHA',
  actor: 'the GitHub user who started the run',
  workflow: 'the workflow name',
  job: 'the job id',
  environment: 'the deployment environment, when the job has one',
  runId: 'the workflow run id',
  runAttempt: 'the run attempt number',
  runUrl: 'a link to the workflow run',
  title: 'the approval title',
} as const;
