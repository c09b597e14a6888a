import type {
  AuthService,
  BackstageCredentials,
  DiscoveryService,
} from '@backstage/backend-plugin-api';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import {
  approvalPagePath,
  approvalSchema,
  describeDecider,
  explainRequester,
  isTerminal,
  type Approval,
} from '@im-approval/plugin-im-approval-common';

/** How long each wait asks the backend to hold the request; the step waits as long as the approval does. */
const WAIT = '25s';

const OUTCOMES: Record<Approval['status'], string> = {
  pending: 'is still pending',
  approved: 'was approved',
  rejected: 'was rejected',
  canceled: 'was canceled',
  expired: 'expired undecided',
  failed: 'failed',
};

/** The backend's error sentence, when it answered with one; its body otherwise (shortened). */
function messageOf(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: { message?: unknown } };
    if (typeof parsed.error?.message === 'string') return parsed.error.message;
  } catch {
    // not JSON: shown as it came
  }
  return body.slice(0, 300);
}

/**
 * `im-approval:request`: opens an approval from one of the IM approval plugin's templates, on
 * behalf of the person running the software template (so they are its requester, and not one of
 * its approvers), waits for the decision, and fails the task unless it is approved. Run again for
 * the same task and step, it finds the same approval rather than asking twice. A cancelled task
 * cancels its approval.
 */
export function createRequestApprovalAction(options: {
  discovery: DiscoveryService;
  auth: AuthService;
}) {
  const { discovery, auth } = options;
  return createTemplateAction({
    id: 'im-approval:request',
    description:
      'Asks for an approval in Feishu/Lark, DingTalk or WeCom through an IM approval template, and waits for the decision',
    examples: [
      {
        description:
          'Wait for a release manager before creating the repository',
        example: [
          'steps:',
          '  - id: approval',
          '    name: Approval',
          '    action: im-approval:request',
          '    input:',
          '      template: production-deploy',
          '      repository: acme/api',
          '      variables:',
          '        service: ${{ parameters.name }}',
          '        reason: ${{ parameters.reason }}',
        ].join('\n'),
      },
    ],
    schema: {
      input: {
        template: z =>
          z.string().describe('The IM approval template to ask through'),
        repository: z =>
          z
            .string()
            .regex(/^[^/\s]+\/[^/\s]+$/, 'expected owner/name')
            .optional()
            .describe(
              'The repository (owner/name) the request is about, for the template policy and the entity pages; scaffolder/<software template> when left out',
            ),
        environment: z =>
          z
            .string()
            .optional()
            .describe(
              'The environment the request is about, for a template policy that names environments',
            ),
        variables: z =>
          z
            .record(z.string(), z.string())
            .optional()
            .describe("Values for the template's ${vars.NAME}"),
        title: z =>
          z.string().optional().describe("Replaces the template's title"),
        timeout: z =>
          z
            .string()
            .optional()
            .describe('How long the approval waits, e.g. 30m or 2h'),
      },
      output: {
        approvalId: z => z.string(),
        status: z => z.string(),
        decidedBy: z => z.string().optional(),
        comment: z => z.string().optional(),
        url: z =>
          z
            .string()
            .optional()
            .describe('The request in the IM, when it has a link'),
        link: z => z.string().describe("The approval's page in Backstage"),
      },
    },
    async handler(ctx) {
      const base = await discovery.getBaseUrl('im-approval');
      const credentials = await ctx.getInitiatorCredentials();
      const call = (method: string, path: string, body?: object) =>
        requestApi(auth, credentials, base, method, path, body, ctx.signal);

      const templateName = ctx.templateInfo?.entityRef ?? 'template';
      const created = await call('POST', '/approvals', {
        template: ctx.input.template,
        idempotencyKey: `scaffolder:${ctx.task.id}:${ctx.step?.id ?? 'approval'}`,
        title: ctx.input.title,
        variables: ctx.input.variables ?? {},
        timeout: ctx.input.timeout,
        context: {
          repository:
            ctx.input.repository ??
            `scaffolder/${templateName.replace(/^.*\//, '')}`,
          environment: ctx.input.environment,
          workflow: templateName,
          job: ctx.step?.id,
          runId: ctx.task.id,
        },
      });
      let approval = created;
      ctx.logger.info(
        `Asked ${approval.approvers.join(', ')} in ${approval.provider}${approval.imUrl ? `: ${approval.imUrl}` : ''}`,
      );
      if (approval.requester)
        ctx.logger.info(`Requester: ${explainRequester(approval.requester)}`);
      try {
        while (!isTerminal(approval.status)) {
          approval = await call(
            'GET',
            `/approvals/${approval.id}/wait?timeout=${WAIT}`,
          );
        }
      } catch (error) {
        if (ctx.signal?.aborted) {
          // The task was cancelled: so is the request, so nobody approves what will not run.
          await requestApi(
            auth,
            credentials,
            base,
            'POST',
            `/approvals/${approval.id}/cancel`,
            { reason: 'The software template task was cancelled' },
          ).catch(() => undefined);
        }
        throw error;
      }

      const decider = describeDecider(approval);
      ctx.output('approvalId', approval.id);
      ctx.output('status', approval.status);
      if (decider) ctx.output('decidedBy', decider);
      if (approval.comment) ctx.output('comment', approval.comment);
      if (approval.imUrl) ctx.output('url', approval.imUrl);
      ctx.output('link', approvalPagePath(approval.id));
      const outcome = `The approval ${OUTCOMES[approval.status]}${decider ? ` by ${decider}` : ''}${approval.comment ? `: "${approval.comment}"` : ''}${approval.error ? ` (${approval.error})` : ''}`;
      if (approval.status !== 'approved') throw new Error(outcome);
      ctx.logger.info(outcome);
    },
  });
}

async function requestApi(
  auth: AuthService,
  credentials: BackstageCredentials,
  base: string,
  method: string,
  path: string,
  body?: object,
  signal?: AbortSignal,
): Promise<Approval> {
  const { token } = await auth.getPluginRequestToken({
    onBehalfOf: credentials,
    targetPluginId: 'im-approval',
  });
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body && { 'content-type': 'application/json' }),
    },
    body: body && JSON.stringify(body),
    signal,
  });
  const text = await response.text();
  if (!response.ok)
    throw new Error(
      `The IM approval backend answered ${response.status} to ${method} ${path.replace(/\?.*$/, '')}: ${messageOf(text)}`,
    );
  return approvalSchema.parse(JSON.parse(text));
}
