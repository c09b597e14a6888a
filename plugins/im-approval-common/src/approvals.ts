import { z } from 'zod';
import { approvalContextSchema, runContextSchema } from './context';
import { DURATION_HINT, durationSchema } from './duration';
import { requesterSchema } from './people';
import { approvalStatusSchema } from './status';
import { templateNameSchema } from './templates';
import { storableText, TEXT_LIMITS } from './text';
import { timelineEventSchema } from './timeline';

/**
 * The caller's `${vars.NAME}` values.
 *
 * @public
 */
export const variablesSchema = z
  .record(
    z.string().regex(/^[A-Za-z_][A-Za-z0-9_-]*$/, 'expected a variable name'),
    z.string().max(4000),
  )
  .default({});

/** @public */
export const createApprovalRequestSchema = z
  .object({
    template: templateNameSchema,
    /** The same key returns the same approval and never opens a second IM instance. */
    idempotencyKey: z.string().min(1).max(200),
    title: z.string().min(1).max(200).optional(),
    variables: variablesSchema,
    /** Replaces the template's approvers when the template allows it. */
    approvers: z.array(z.string().min(1)).min(1).optional(),
    timeout: durationSchema.optional(),
    /** Self-reported run context; ignored when the caller presents a GitHub OIDC token. */
    context: runContextSchema.optional(),
  })
  .meta({ id: 'CreateApprovalRequest' });
/** @public */
export type CreateApprovalRequest = z.input<typeof createApprovalRequestSchema>;
/** @public */
export type ParsedCreateApprovalRequest = z.output<
  typeof createApprovalRequestSchema
>;

/**
 * One value sent to the IM form: `field` as the template names it (the IM field's id or name), and
 * `label`, the name the IM form shows approvers for that field, once the IM has told it.
 *
 * @public
 */
export const formValueSchema = z
  .object({
    field: z.string(),
    value: z.string(),
    label: storableText(TEXT_LIMITS.fieldName).optional().meta({
      description:
        "The IM form's name for the field, as approvers see it (Feishu widget name, DingTalk component label, WeCom control title): one line of text from the IM, recorded when the instance was created; absent until then, where the IM gives none, and for approvals from before labels were kept",
    }),
  })
  .meta({ id: 'FormValue' });
/** @public */
export type FormValue = z.infer<typeof formValueSchema>;

/**
 * One approver's own request in a stage that counts its approvals (`atLeast`).
 *
 * @public
 */
export const approvalStageRequestSchema = z
  .object({
    /** The approver's IM user id. */
    approver: z.string(),
    /** Their IM instance; null until it is created. */
    instanceId: z.string().nullable(),
    url: z.string().nullable(),
    /** closed: the stage was decided without them, or the approval ended, and their request was withdrawn. */
    status: z.enum(['pending', 'approved', 'rejected', 'closed']),
    decidedBy: z.string().nullable(),
    comment: z.string().nullable(),
    decidedAt: z.iso.datetime().nullable(),
  })
  .meta({ id: 'ApprovalStageRequest' });
/** @public */
export type ApprovalStageRequest = z.infer<typeof approvalStageRequestSchema>;

/**
 * One stage of an approval, with the people it asked (resolved when the request was opened) and how
 * far it has come, as the IM last told.
 *
 * @public
 */
export const approvalStageSchema = z
  .object({
    name: z.string().nullable(),
    rule: z.enum(['all', 'any']),
    approvers: z.array(z.string()),
    status: z.enum(['waiting', 'pending', 'approved', 'rejected']).meta({
      description:
        'waiting: an earlier stage is not decided yet; pending: its approvers are asked now',
    }),
    /** Who approved in it so far, as people know them (the display name in the IM). */
    approvedBy: z.array(z.string()),
    /** The IM ids of its approvers whose decision it still waits on. */
    waitingOn: z.array(z.string()),
    // Defaults, so an Action reading a backend from before counted stages still parses its answers.
    /** How many must approve, for a stage that counts; null for `all` and `any`. */
    atLeast: z.number().int().nullable().default(null),
    /** Who rejected in it, for a stage that counts (a rejection ends any other stage). */
    rejectedBy: z.array(z.string()).default([]),
    /** For a stage that counts: each approver's own request. */
    requests: z.array(approvalStageRequestSchema).default([]),
  })
  .meta({ id: 'ApprovalStage' });
/** @public */
export type ApprovalStage = z.infer<typeof approvalStageSchema>;

/** @public */
export const approvalSchema = z
  .object({
    id: z.uuid(),
    status: approvalStatusSchema,
    template: z.string(),
    integration: z.string(),
    provider: z.string(),
    title: z.string(),
    idempotencyKey: z.string(),
    context: approvalContextSchema,
    variables: z.record(z.string(), z.string()),
    form: z.array(formValueSchema),
    approvers: z.array(z.string()),
    // A default, so an Action reading a backend from before stages still parses its answers.
    stages: z.array(approvalStageSchema).default([]).meta({
      description:
        'The stages in order, for a template with more than one; empty for a single-stage template and for approvals from before stages',
    }),
    // Defaults, so an Action reading a backend from before people were known still parses its answers.
    approverRefs: z.array(z.string()).default([]).meta({
      description:
        'The catalog users asked, where the approvers came from the catalog (user and group refs resolved when the request was opened)',
    }),
    requester: requesterSchema.nullable().default(null).meta({
      description:
        'Who asked, and how they were identified; null for approvals opened before requesters were known',
    }),
    // A default, so an Action reading a backend from before CC still parses its answers.
    cc: z.array(z.string()).default([]).meta({
      description:
        "The people told of the request who cannot decide it (the template's cc, catalog groups expanded and people the IM does not know left out), as the IM is asked to tell them",
    }),
    // Defaults, so an Action reading a backend from before reminders still parses its answers.
    nextReminderAt: z.iso.datetime().nullable().default(null).meta({
      description:
        "When its pending approvers are next reminded (the template's remindAfter); null when they are not",
    }),
    escalateTo: z.array(z.string()).default([]).meta({
      description:
        "Who it is escalated to if still pending at escalatesAt (the template's escalateTo, catalog groups expanded), as IM contacts",
    }),
    escalatesAt: z.iso.datetime().nullable().default(null).meta({
      description:
        'When it is escalated to escalateTo; null when it is not to be, or already was (its timeline says how)',
    }),
    imInstanceId: z.string().nullable(),
    imUrl: z.string().nullable(),
    decidedBy: z.string().nullable().meta({
      description:
        'Who decided, as people know them: the display name in the IM (the IM id when the IM will not tell it), or the Backstage user or caller',
    }),
    // A default, so an Action reading a backend from before ids were kept still parses its answers.
    decidedById: z.string().nullable().default(null).meta({
      description:
        'The id beside that name: the IM user id (Feishu open_id, DingTalk userId, WeCom userid), or the Backstage user or caller; null for approvals decided before ids were kept',
    }),
    comment: z.string().nullable(),
    decidedAt: z.iso.datetime().nullable(),
    error: z.string().nullable(),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
    expiresAt: z.iso.datetime(),
  })
  .meta({ id: 'Approval' });
/** @public */
export type Approval = z.infer<typeof approvalSchema>;

/** @public */
export const approvalWithTimelineSchema = approvalSchema
  .extend({ timeline: z.array(timelineEventSchema) })
  .meta({ id: 'ApprovalWithTimeline' });
/** @public */
export type ApprovalWithTimeline = z.infer<typeof approvalWithTimelineSchema>;

/** @public */
/** The longest a long-poll is held: a held poll gets heartbeats, so proxies keep it open. */
export const MAX_WAIT_SECONDS = 900;
/** A query string carries a number of seconds as digits. */
const secondsInQuery = (value: unknown) =>
  typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;

/** @public */
export const waitQuerySchema = z
  .object({
    timeout: z
      .preprocess(
        secondsInQuery,
        durationSchema.refine(
          seconds => seconds <= MAX_WAIT_SECONDS,
          `must be at most ${MAX_WAIT_SECONDS}s`,
        ),
      )
      .optional()
      .default(25)
      .meta({
        description: `How long to hold the request: ${DURATION_HINT}, or a number of seconds; at most ${MAX_WAIT_SECONDS}s`,
        examples: ['25s', '25'],
      }),
  })
  .meta({ id: 'WaitQuery' });

/** @public */
export const cancelApprovalRequestSchema = z
  .object({ reason: z.string().max(1000).optional() })
  .meta({ id: 'CancelApprovalRequest' });
/** @public */
export type CancelApprovalRequest = z.infer<typeof cancelApprovalRequestSchema>;

/** @public */
export const decideApprovalRequestSchema = z
  .object({
    decision: z.enum(['approved', 'rejected']),
    comment: z.string().trim().min(1, 'a reason is required').max(2000),
  })
  .meta({ id: 'DecideApprovalRequest' });
/** @public */
export type DecideApprovalRequest = z.infer<typeof decideApprovalRequestSchema>;

/** @public */
export const listApprovalsQuerySchema = z
  .object({
    status: approvalStatusSchema.optional(),
    template: z.string().max(100).optional(),
    repository: z.string().max(200).optional(),
    /** Words to find in the title, repository, id, decider or comment (case-insensitive). */
    q: z.string().trim().min(1).max(200).optional(),
    /** The signed-in user's own: approvals they requested, or pending ones waiting on them. */
    mine: z.enum(['requested', 'waiting']).optional(),
    limit: z.coerce.number().int().min(1).max(100).default(25),
    offset: z.coerce.number().int().min(0).default(0),
  })
  .meta({ id: 'ListApprovalsQuery' });
/** @public */
export type ListApprovalsQuery = z.output<typeof listApprovalsQuerySchema>;

/**
 * How many values of each filter the approvals page is offered, drawn from this many of the latest
 * approvals: enough to pick from, and a bounded read however long the history.
 *
 * @public
 */
export const APPROVAL_FACETS = { limit: 50, scanned: 5000 } as const;

/** @public */
export const approvalFacetsQuerySchema = z
  .object({
    /** Words the offered values contain (case-insensitive). */
    q: z.string().trim().max(200).optional(),
  })
  .meta({ id: 'ApprovalFacetsQuery' });
/** @public */
export type ApprovalFacetsQuery = z.output<typeof approvalFacetsQuerySchema>;

/**
 * The templates and repositories recent approvals have, to filter the list by.
 *
 * @public
 */
export const approvalFacetsSchema = z
  .object({
    templates: z.array(z.string()),
    repositories: z.array(z.string()),
  })
  .meta({ id: 'ApprovalFacets' });
/** @public */
export type ApprovalFacets = z.infer<typeof approvalFacetsSchema>;

/** @public */
export const listApprovalsResponseSchema = z
  .object({
    items: z.array(approvalSchema),
    totalCount: z.number().int(),
    offset: z.number().int(),
    limit: z.number().int(),
  })
  .meta({ id: 'ListApprovalsResponse' });
/** @public */
export type ListApprovalsResponse = z.infer<typeof listApprovalsResponseSchema>;

/**
 * Backstage's error body.
 *
 * @public
 */
export const errorResponseSchema = z
  .object({
    error: z.object({ name: z.string(), message: z.string() }),
    request: z.object({ method: z.string(), url: z.string() }).optional(),
    response: z.object({ statusCode: z.number() }),
  })
  .meta({ id: 'ErrorResponse' });

/**
 * Who decided, as one line: the name people know, and the id beside it when the two differ
 * ("Alice Chen (ou_1a2b)"); undefined while nobody has.
 *
 * @public
 */
export function describeDecider(
  approval: Pick<Approval, 'decidedBy' | 'decidedById'>,
): string | undefined {
  const { decidedBy, decidedById } = approval;
  if (!decidedBy) return decidedById ?? undefined;
  return decidedById && decidedById !== decidedBy
    ? `${decidedBy} (${decidedById})`
    : decidedBy;
}
