import { z } from 'zod';
import { durationSchema, formatDuration } from './duration';
import { formIdSchema, integrationIdSchema } from './integrations';
import { storableText, TEXT_LIMITS } from './text';

/**
 * A template's name: it is a URL path segment and a varchar(100) key.
 *
 * @public
 */
export const templateNameSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/,
    'expected letters, digits, dots, dashes and underscores (at most 100, starting with a letter or digit)',
  );

const patternsSchema = z
  .array(storableText(TEXT_LIMITS.pattern, { min: 1 }))
  .max(
    TEXT_LIMITS.listItems,
    `expected at most ${TEXT_LIMITS.listItems} patterns`,
  )
  .optional();

/**
 * Glob patterns (`my-org/*`, `refs/tags/v*`); absent means no restriction.
 *
 * @public
 */
export const templatePolicySchema = z
  .object({
    repositories: patternsSchema,
    refs: patternsSchema,
    environments: patternsSchema,
  })
  .default({});

const approverListSchema = z
  .array(storableText(TEXT_LIMITS.person, { min: 1 }))
  .min(1)
  .max(
    TEXT_LIMITS.listItems,
    `expected at most ${TEXT_LIMITS.listItems} approvers`,
  );

/**
 * One step of a template's approval, mapped to one of the IM's approver nodes. Stages are decided
 * in order; a rejection in any of them rejects the approval.
 *
 * @public
 */
export const templateStageSchema = z
  .object({
    /** As approvers see the node in the IM ("Team lead", "SRE"). */
    name: storableText(TEXT_LIMITS.stageName, { min: 1 }).optional(),
    /** Like a template's approvers: IM ids, emails, mobiles or catalog refs. */
    approvers: approverListSchema,
    /** `all` of them must approve, or `any` one. */
    rule: z.enum(['all', 'any']).default('all'),
    /**
     * Instead of the rule: this many of them must approve. No IM can say so, so each approver gets a
     * request of their own, the backend counts, and closes the rest once the stage is decided.
     */
    atLeast: z.number().int().min(1).max(TEXT_LIMITS.listItems).optional(),
  })
  .superRefine((stage, ctx) => {
    // Catalog groups are counted when a request is opened; raw people can be counted now.
    const raw = stage.approvers.filter(a => !/^(user|group):/.test(a));
    if (
      stage.atLeast !== undefined &&
      raw.length === stage.approvers.length &&
      stage.atLeast > new Set(raw).size
    )
      ctx.addIssue({
        code: 'custom',
        path: ['atLeast'],
        message: `must not exceed the number of approvers (${stage.atLeast} > ${new Set(raw).size})`,
      });
  })
  .meta({ id: 'TemplateStage' });
/** @public */
export type TemplateStage = z.output<typeof templateStageSchema>;

/**
 * The IM form a template uses: an existing one by its id, or `{ create: true }` for one the backend
 * creates in the IM (and updates as the template changes) with the template's fields and stages.
 *
 * @public
 */
export const templateFormSchema = z.union(
  [formIdSchema, z.object({ create: z.literal(true) }).strict()],
  {
    error: () =>
      "expected the IM form's id (Feishu approval_code, DingTalk processCode, WeCom template_id), or { create: true } for a form the backend creates in the IM",
  },
);
/** @public */
export type TemplateForm = z.output<typeof templateFormSchema>;

/** @public */
export const templateSchema = z
  .object({
    name: templateNameSchema,
    description: storableText(TEXT_LIMITS.description).optional(),
    integration: integrationIdSchema,
    form: templateFormSchema,
    /** The approval's title; may use `${…}` variables. */
    title: storableText(TEXT_LIMITS.title, { min: 1 }).default(
      'Approval for ${repository}',
    ),
    /** IM form field (id or name) → text with `${…}` variables. */
    fields: z
      .record(
        storableText(TEXT_LIMITS.fieldName, { min: 1 }),
        storableText(TEXT_LIMITS.fieldText),
      )
      .refine(
        fields => Object.keys(fields).length <= TEXT_LIMITS.listItems,
        `expected at most ${TEXT_LIMITS.listItems} fields`,
      )
      .default({}),
    /**
     * IM user ids, emails or mobiles, or catalog refs (`user:default/alice`,
     * `group:default/release-managers`, resolved when a request is opened).
     */
    approvers: approverListSchema.optional(),
    approverMode: z.enum(['all', 'any']).default('all'),
    /**
     * People told of each request who can see it but never decide (抄送), written like approvers
     * (catalog groups expanded when a request is opened); each IM tells them in its own way.
     */
    cc: z
      .array(storableText(TEXT_LIMITS.person, { min: 1 }))
      .max(
        TEXT_LIMITS.listItems,
        `expected at most ${TEXT_LIMITS.listItems} CC recipients`,
      )
      .default([]),
    /**
     * Pending approvers are reminded this long after the request, and again each time this long
     * passes, while it waits on them: a direct message from the app in the IM with the request's link.
     */
    remindAfter: durationSchema.optional(),
    /** How long a request waits for a decision before it is escalated to `escalateTo`. */
    escalateAfter: durationSchema.optional(),
    /**
     * Who a request is escalated to, written like approvers (catalog groups expanded when a request
     * is opened): added to the IM request as approvers where the IM lets an app do so (Feishu), told
     * by a direct message with a link where it does not (DingTalk, WeCom).
     */
    escalateTo: approverListSchema.optional(),
    /**
     * A group chat (Feishu chat_id, `oc_…`) where each request gets a card with its context and
     * Approve and Reject buttons, updated in place when it is decided, cancelled or expires. The
     * app's bot must be in the chat; only the request's approvers' clicks count.
     */
    groupChat: storableText(TEXT_LIMITS.appId, { min: 1 }).optional(),
    /** Several steps in order, each with its approvers and rule; instead of approvers and approverMode. */
    stages: z
      .array(templateStageSchema)
      .min(1)
      .max(TEXT_LIMITS.stages, `expected at most ${TEXT_LIMITS.stages} stages`)
      .optional(),
    allowApproverOverride: z.boolean().default(false),
    /** Whether the person who asked may be one of the approvers; by default they are removed. */
    allowSelfApproval: z.boolean().default(false),
    initiator: storableText(TEXT_LIMITS.person, { min: 1 }).optional(),
    defaultTimeout: durationSchema.default(3600),
    maxTimeout: durationSchema.default(7 * 86400),
    policy: templatePolicySchema,
  })
  .superRefine((t, ctx) => {
    if (t.approvers && t.stages)
      ctx.addIssue({
        code: 'custom',
        path: ['stages'],
        message: 'expected either approvers or stages, not both',
      });
    // Neither: either may be the one to give, so both are named.
    if (!t.approvers && !t.stages)
      for (const path of ['approvers', 'stages'])
        ctx.addIssue({
          code: 'custom',
          path: [path],
          message: 'expected the approvers, or stages each with its approvers',
        });
    if (t.stages && t.allowApproverOverride)
      ctx.addIssue({
        code: 'custom',
        path: ['allowApproverOverride'],
        message:
          "must be false for a template with stages: a request's approvers could not say which stage they replace",
      });
    // One without the other: either may be the one to change, so both are named.
    const half = (given: string, missing: string, expected: string) => {
      ctx.addIssue({ code: 'custom', path: [missing], message: expected });
      ctx.addIssue({
        code: 'custom',
        path: [given],
        message: `is used only with ${missing}: set both, or neither`,
      });
    };
    if (t.escalateTo && t.escalateAfter === undefined)
      half(
        'escalateTo',
        'escalateAfter',
        'expected how long a request waits before it is escalated to escalateTo',
      );
    if (t.escalateAfter !== undefined && !t.escalateTo)
      half(
        'escalateAfter',
        'escalateTo',
        'expected who a request is escalated to after escalateAfter',
      );
    if (t.escalateAfter !== undefined && t.escalateAfter >= t.maxTimeout)
      ctx.addIssue({
        code: 'custom',
        path: ['escalateAfter'],
        message: `must be shorter than maxTimeout (${formatDuration(t.escalateAfter)} >= ${formatDuration(t.maxTimeout)}): no request would wait that long`,
      });
    if (t.defaultTimeout <= t.maxTimeout) return;
    // Either may be the one to change (and either may be the default), so both are named.
    const [defaultTimeout, maxTimeout] = [
      formatDuration(t.defaultTimeout),
      formatDuration(t.maxTimeout),
    ];
    ctx.addIssue({
      code: 'custom',
      path: ['defaultTimeout'],
      message: `must not exceed maxTimeout (${defaultTimeout} > ${maxTimeout})`,
    });
    ctx.addIssue({
      code: 'custom',
      path: ['maxTimeout'],
      message: `must be at least defaultTimeout (${maxTimeout} < ${defaultTimeout})`,
    });
  });
/** @public */
export type Template = z.output<typeof templateSchema>;
/** @public */
export type TemplatePolicy = Template['policy'];

/**
 * A template's stages: its own, or its approvers and approverMode as the one stage.
 *
 * @public
 */
export function stagesOf(
  template: Pick<Template, 'approvers' | 'approverMode' | 'stages'>,
): TemplateStage[] {
  return (
    template.stages ?? [
      { approvers: template.approvers ?? [], rule: template.approverMode },
    ]
  );
}

/**
 * The IM form id a template names, or undefined for a form the backend creates.
 *
 * @public
 */
export function existingFormOf(template: Pick<Template, 'form'>) {
  return typeof template.form === 'string' ? template.form : undefined;
}

/**
 * `${name}` in a template's title or fields, spaces allowed inside the braces.
 *
 * @public
 */
export const TEMPLATE_PLACEHOLDER = /\$\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}/g;

/**
 * The `${…}` names a template's title and fields use, each once.
 *
 * @public
 */
export function placeholdersOf(template: {
  title: string;
  fields: Record<string, string>;
}): string[] {
  const texts = [template.title, ...Object.values(template.fields)];
  return [
    ...new Set(
      texts.flatMap(text =>
        [...text.matchAll(TEMPLATE_PLACEHOLDER)].map(match => match[1]),
      ),
    ),
  ];
}

/**
 * The `${…}` names a template can use besides `vars.NAME`, and what each means.
 *
 * @public
 */
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
