import type { LoggerService } from '@backstage/backend-plugin-api';
import {
  describeZodError,
  type GithubDelivery,
} from '@im-approval/plugin-im-approval-common';
import type { z } from 'zod';
import type { GateStore } from '../database/GateStore';
import type { GithubSettings } from '../settings/GithubSettings';
import { IgnoredEvent, type DeploymentGates } from './DeploymentGates';
import {
  deploymentProtectionRuleSchema,
  workflowJobSchema,
  workflowRunSchema,
} from './githubEvents';
import { webhookSignatureProblem } from './webhookSignature';

/** Refused deliveries change nothing and are not stored: each replica remembers its latest few. */
const REFUSED_KEPT = 20;

export interface WebhookRequest {
  headers: Record<string, string | string[] | undefined>;
  rawBody: Buffer;
}

export interface WebhookReply {
  status: number;
  body: { outcome: GithubDelivery['outcome']; message: string };
}

function header(request: WebhookRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

class PayloadError extends Error {}

function parse<T extends z.ZodType>(schema: T, payload: unknown): z.output<T> {
  const result = schema.safeParse(payload);
  if (!result.success)
    throw new PayloadError(describeZodError(result.error, 'body'));
  return result.data;
}

/**
 * GitHub's webhook: signature first (nothing is read from an unsigned body), then each delivery
 * once, by its X-GitHub-Delivery; answered as soon as what it asks is stored.
 */
export class GithubWebhook {
  private readonly refusedLately: GithubDelivery[] = [];

  constructor(
    private readonly options: {
      settings: GithubSettings;
      gates: DeploymentGates;
      store: GateStore;
      logger: LoggerService;
    },
  ) {}

  refused(): GithubDelivery[] {
    return [...this.refusedLately];
  }

  async handle(request: WebhookRequest): Promise<WebhookReply> {
    const id = header(request, 'x-github-delivery') ?? null;
    const event = header(request, 'x-github-event') ?? null;
    const receivedAt = new Date().toISOString();
    const refuse = (status: number, message: string): WebhookReply => {
      this.refusedLately.unshift({
        id,
        event,
        action: null,
        receivedAt,
        outcome: 'refused',
        message,
      });
      this.refusedLately.length = Math.min(
        this.refusedLately.length,
        REFUSED_KEPT,
      );
      this.options.logger.warn(
        `Refused a GitHub webhook delivery ${JSON.stringify(id)}: ${message}`,
      );
      return { status, body: { outcome: 'refused', message } };
    };

    const app = await this.options.settings.app();
    if (!app)
      return refuse(
        404,
        'Deployment gates are off: no GitHub App is configured (imApproval.github.app, or the Deployment gates tab)',
      );
    const problem = webhookSignatureProblem(
      app.webhookSecret,
      request.rawBody,
      header(request, 'x-hub-signature-256'),
    );
    if (problem) return refuse(401, problem);
    if (!id || !/^[\w-]{1,64}$/.test(id))
      return refuse(
        400,
        'headers.x-github-delivery: expected the delivery GUID',
      );
    if (!event || !/^[a-z_]{1,64}$/.test(event))
      return refuse(400, 'headers.x-github-event: expected an event name');
    if (await this.options.store.hasDelivery(id))
      return {
        status: 200,
        body: {
          outcome: 'duplicate',
          message: `delivery ${id} was already received`,
        },
      };

    let payload: unknown;
    try {
      payload = JSON.parse(request.rawBody.toString('utf8'));
    } catch {
      return refuse(
        400,
        'body: expected JSON (content type application/json in the webhook settings)',
      );
    }
    const action =
      typeof (payload as { action?: unknown })?.action === 'string'
        ? (payload as { action: string }).action.slice(0, 64)
        : null;

    let outcome: 'accepted' | 'ignored' = 'accepted';
    let message: string;
    try {
      message = await this.dispatch(event, action, payload);
    } catch (error) {
      if (error instanceof PayloadError) return refuse(400, error.message);
      if (!(error instanceof IgnoredEvent)) throw error;
      outcome = 'ignored';
      message = error.message;
    }
    await this.options.store.recordDelivery({
      id,
      event,
      action,
      receivedAt,
      outcome,
      message,
    });
    return {
      status: outcome === 'accepted' ? 202 : 200,
      body: { outcome, message },
    };
  }

  private async dispatch(
    event: string,
    action: string | null,
    payload: unknown,
  ): Promise<string> {
    const { gates } = this.options;
    switch (event) {
      case 'ping':
        return 'pong: the webhook reaches this backend and its signature holds';
      case 'deployment_protection_rule':
        if (action !== 'requested')
          throw new IgnoredEvent(`action "${action}" needs nothing`);
        return gates.requested(parse(deploymentProtectionRuleSchema, payload));
      case 'workflow_run': {
        const run = parse(workflowRunSchema, payload);
        if (run.action !== 'completed')
          throw new IgnoredEvent('only a completed run matters');
        return gates.runCompleted(
          run.repository.full_name,
          String(run.workflow_run.id),
          run.workflow_run.conclusion ?? '',
        );
      }
      case 'workflow_job': {
        const job = parse(workflowJobSchema, payload);
        if (
          job.action !== 'completed' ||
          job.workflow_job.conclusion !== 'cancelled'
        )
          throw new IgnoredEvent('only a cancelled job matters');
        return gates.runCompleted(
          job.repository.full_name,
          String(job.workflow_job.run_id),
          'cancelled',
        );
      }
      default:
        throw new IgnoredEvent(`event "${event}" is not one gates use`);
    }
  }
}
