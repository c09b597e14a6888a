import { z } from 'zod';

/**
 * What a workflow run says about itself; with an OIDC token these come from verified claims.
 *
 * @public
 */
export const runContextSchema = z
  .object({
    repository: z.string().regex(/^[^/\s]+\/[^/\s]+$/, 'expected owner/name'),
    ref: z.string().optional(),
    sha: z.string().optional(),
    actor: z.string().optional(),
    workflow: z.string().optional(),
    job: z.string().optional(),
    environment: z.string().optional(),
    eventName: z.string().optional(),
    runId: z.string().optional(),
    runAttempt: z.string().optional(),
    /** Only http(s): the UI turns it into links. */
    serverUrl: z
      .url({ protocol: /^https?$/, error: 'expected an http(s) URL' })
      .optional(),
  })
  .meta({ id: 'RunContext' });
/** @public */
export type RunContext = z.infer<typeof runContextSchema>;

/** @public */
export const approvalContextSchema = runContextSchema
  .extend({
    /** true when the context comes from a verified GitHub OIDC token, false when self-reported. */
    verified: z.boolean(),
    /** Who called: `github:<repository>` for OIDC, the Backstage principal otherwise. */
    caller: z.string(),
    runUrl: z.string().optional(),
    /** Set on approvals sent from a template's "Send test approval": sample values, not a real run. */
    test: z.boolean().optional(),
    /** The deployment gate that opened it for a job GitHub holds (no runner waits); absent for the Action's. */
    gate: z.string().optional(),
  })
  .meta({ id: 'ApprovalContext' });
/** @public */
export type ApprovalContext = z.infer<typeof approvalContextSchema>;
