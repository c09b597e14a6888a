import type { LoggerService } from '@backstage/backend-plugin-api';
import { ConflictError, InputError, NotFoundError } from '@backstage/errors';
import {
  formatDuration,
  isTerminal,
  placeholdersOf,
  type Approval,
  type ApprovalContext,
  type DecideApprovalRequest,
  type Integration,
  type ListApprovalsQuery,
  type ParsedCreateApprovalRequest,
  type RunContext,
  type Template,
  type TerminalStatus,
  type TestTemplateRequest,
  type TimelineSource,
} from '@im-approval/plugin-im-approval-common';
import { ImApiError, type ImCallbackRequest, type ImClient, type ImEvent } from '@im-approval/plugin-im-approval-node';
import { randomUUID } from 'node:crypto';
import type { Caller } from '../auth/CallerResolver';
import type { ApprovalStore, IdempotentApproval, IdempotentRequest, NewApproval } from '../store/ApprovalStore';
import { checkPolicy } from '../templates/checkPolicy';
import { renderTemplate, templateVariables } from '../templates/renderTemplate';
import type { ApprovalChanges } from '../waiting/ApprovalChanges';
import { IdempotencyMismatchError } from './IdempotencyMismatchError';
import { differences, idempotentRequest } from './idempotentRequest';
import type { ImClients } from './ImClients';
import type { SettingsSource } from './SettingsSource';

/** Waiters re-read their approval at least this often, in case a notification was lost. */
const SAFETY_RECHECK_MS = 10_000;
/** An approval still without an IM instance after this long is retried by the reconciler. */
const STRANDED_AFTER_MS = 30_000;
const RECEIPT_RETENTION_MS = 7 * 86_400_000;
/** The run a template test pretends to come from, unless the request says otherwise. */
const TEST_RUN = {
  repository: 'example/repository',
  ref: 'refs/heads/main',
  sha: '0000000000000000000000000000000000000000',
  workflow: 'Template test',
  job: 'test',
  environment: 'test',
  runId: '0',
};

/**
 * When an IM says a decision was made, never before the approval existed: IMs report coarse times
 * (WeCom whole seconds, DingTalk whole minutes), so a quick decision would otherwise predate its request.
 */
function notBefore(decidedAt: Date | undefined, createdAt: string): Date | undefined {
  if (!decidedAt) return undefined;
  const created = new Date(createdAt);
  return decidedAt < created ? created : decidedAt;
}

export interface ApprovalServiceOptions {
  store: ApprovalStore;
  settings: SettingsSource;
  clients: ImClients;
  changes: ApprovalChanges;
  logger: LoggerService;
  githubServerUrl: string;
}

export class ApprovalService {
  private readonly store: ApprovalStore;
  private readonly settings: SettingsSource;
  private readonly clients: ImClients;
  private readonly changes: ApprovalChanges;
  private readonly logger: LoggerService;
  private readonly githubServerUrl: string;

  constructor(options: ApprovalServiceOptions) {
    this.store = options.store;
    this.settings = options.settings;
    this.clients = options.clients;
    this.changes = options.changes;
    this.logger = options.logger;
    this.githubServerUrl = options.githubServerUrl;
  }

  async create(request: ParsedCreateApprovalRequest, caller: Caller): Promise<{ approval: Approval; created: boolean }> {
    const template = await this.settings.template(request.template);
    if (!template) throw new InputError(`template: there is no template named "${request.template}"`);
    const context = this.contextOf(caller, request.context);
    // Before the idempotency key is looked at: a key must never carry an approval past the policy.
    checkPolicy(template, context);
    if (request.approvers && !template.allowApproverOverride) {
      throw new InputError(`approvers: template "${template.name}" does not allow overriding its approvers`);
    }
    const timeout = request.timeout ?? template.defaultTimeout;
    if (timeout > template.maxTimeout) {
      throw new InputError(`timeout: template "${template.name}" allows at most ${formatDuration(template.maxTimeout)}`);
    }
    const asked = idempotentRequest(request, context);
    const existing = await this.store.getByIdempotencyKey(caller.id, request.idempotencyKey);
    if (existing) return { approval: this.sameRequest(existing, request.idempotencyKey, asked), created: false };

    const rendered = renderTemplate(template, templateVariables(context, request.variables), request.title);
    return this.open(template, {
      idempotencyKey: request.idempotencyKey,
      request: asked,
      context,
      variables: request.variables,
      title: rendered.title,
      form: rendered.form,
      approvers: request.approvers ?? template.approvers,
      timeout,
      caller,
    });
  }

  /**
   * Opens a real approval from a template, on behalf of a person, marked as a test: values the
   * request leaves out are samples, and the template's policy does not apply.
   */
  async sendTest(templateName: string, request: TestTemplateRequest, caller: Caller): Promise<Approval> {
    const template = await this.settings.template(templateName);
    if (!template) throw new NotFoundError(`There is no template "${templateName}"`);
    const context = {
      ...this.contextOf(caller, { ...TEST_RUN, actor: caller.id, ...request.context }),
      test: true,
    };
    const variables = { ...request.variables };
    for (const name of placeholdersOf(template)) {
      if (name.startsWith('vars.')) variables[name.slice(5)] ??= `sample ${name.slice(5)}`;
    }
    const rendered = renderTemplate(template, templateVariables(context, variables), request.title);
    const { approval } = await this.open(template, {
      idempotencyKey: `test:${randomUUID()}`,
      request: { test: true },
      context,
      variables,
      title: request.title ?? `[Test] ${rendered.title}`,
      form: rendered.form,
      approvers: template.approvers,
      timeout: template.defaultTimeout,
      caller,
    });
    return approval;
  }

  private async open(
    template: Template,
    request: Pick<NewApproval, 'idempotencyKey' | 'request' | 'context' | 'variables' | 'title' | 'form' | 'approvers'> & {
      timeout: number;
      caller: Caller;
    },
  ): Promise<{ approval: Approval; created: boolean }> {
    const integration = await this.integrationOf(template.integration);
    const { timeout, caller, context, ...approvalFields } = request;
    const inserted = await this.store.insert(
      {
        ...approvalFields,
        id: randomUUID(),
        caller: caller.id,
        template: template.name,
        integration: integration.id,
        provider: integration.provider,
        context,
        expiresAt: new Date(Date.now() + timeout * 1000),
      },
      {
        type: 'created',
        source: 'api',
        actor: caller.id,
        message:
          `Requested with a ${context.test ? 'test' : context.verified ? 'verified' : 'self-reported'} run context; ` +
          `expires in ${formatDuration(timeout)}`,
      },
    );
    if (!inserted.created) {
      return { approval: this.sameRequest(inserted, request.idempotencyKey, request.request), created: false };
    }
    return { approval: await this.openImInstance(inserted.approval, 'api'), created: true };
  }

  async get(id: string): Promise<Approval> {
    const approval = await this.store.get(id);
    if (!approval) throw new NotFoundError(`There is no approval with id ${id}`);
    return approval;
  }

  async getWithTimeline(id: string) {
    const approval = await this.get(id);
    return { ...approval, timeline: await this.store.timeline(id) };
  }

  list(query: ListApprovalsQuery) {
    return this.store.list(query);
  }

  /**
   * Answers at once when the approval is decided, otherwise the moment it changes, otherwise at
   * the timeout with `pending`. The deadline is the server's: an approval past it expires here.
   */
  async wait(id: string, timeoutSeconds: number, signal?: AbortSignal): Promise<Approval> {
    const until = Date.now() + timeoutSeconds * 1000;
    const subscription = this.changes.subscribe(id);
    try {
      for (;;) {
        let approval = await this.get(id);
        if (isTerminal(approval.status)) return approval;
        const expiresAt = Date.parse(approval.expiresAt);
        if (expiresAt <= Date.now()) {
          approval = await this.expire(approval, 'api');
          if (isTerminal(approval.status)) return approval;
        }
        const remaining = Math.min(until, expiresAt) - Date.now();
        if (remaining <= 0 && until <= expiresAt) return approval;
        const reason = await subscription.next(Math.min(Math.max(remaining, 0), SAFETY_RECHECK_MS), signal);
        if (reason === 'aborted') return approval;
      }
    } finally {
      subscription.close();
    }
  }

  async cancel(id: string, caller: Caller, reason?: string): Promise<Approval> {
    const approval = await this.get(id);
    if (approval.status === 'canceled') return approval;
    if (isTerminal(approval.status)) throw new ConflictError(`Approval ${id} is already ${approval.status}`);
    const canceled = await this.store.transition(
      id,
      { status: 'canceled', decidedBy: caller.id, comment: reason },
      { type: 'canceled', source: 'api', actor: caller.id, message: reason },
    );
    if (!canceled) return this.cancel(id, caller, reason);
    this.changes.changed(id);
    await this.revoke(canceled, 'api');
    return canceled;
  }

  /** An administrator's decision in Backstage, instead of one in the IM. */
  async decide(id: string, caller: Caller, request: DecideApprovalRequest): Promise<Approval> {
    const decided = await this.store.transition(
      id,
      { status: request.decision, decidedBy: caller.id, comment: request.comment },
      { type: request.decision, source: 'admin', actor: caller.id, message: request.comment },
    );
    if (!decided) {
      const current = await this.get(id);
      throw new ConflictError(`Approval ${id} is already ${current.status}`);
    }
    this.changes.changed(id);
    await this.revoke(decided, 'admin');
    return decided;
  }

  /**
   * Verifies an IM callback and applies the decisions in it before the IM gets its answer, so an
   * acknowledged decision is never lost.
   */
  async handleCallback(provider: string, integrationId: string, request: ImCallbackRequest) {
    const integration = await this.settings.integration(integrationId);
    if (!integration || integration.provider !== provider) {
      throw new NotFoundError(`There is no ${provider} integration "${integrationId}"`);
    }
    const { reply, events } = await this.clients.forIntegration(integration).handleCallback(request);
    await this.applyImEvents(integration, events, 'callback');
    return reply;
  }

  /**
   * Applies events an IM pushed (by callback or over a held connection): each names an instance
   * that changed, which is read from the IM and moved on if decided. Redelivered events are
   * recognised by their IM event id; an event whose read fails is not recorded, so its redelivery counts.
   */
  async applyImEvents(integration: Integration, events: ImEvent[], source: 'callback' | 'connection') {
    const client = this.clients.forIntegration(integration);
    for (const event of events) {
      if (await this.store.hasReceipt(integration.id, event.eventId)) continue;
      const approval = await this.store.findByInstance(integration.id, event.instanceId);
      if (approval?.status === 'pending') await this.syncFromIm(approval, client, source);
      await this.store.addReceipt(integration.id, event.eventId);
    }
  }

  /**
   * Reads pending approvals from their IMs, so a lost callback never strands one. Each
   * integration reads at most what its IM's rate limit allows per pass; the ones left over are
   * the least recently read, so they come first in the next pass.
   */
  async reconcile(options: { batchSize: number; intervalSeconds: number }): Promise<{ checked: number; decided: number }> {
    const pending = await this.store.listPending({ limit: options.batchSize });
    const budgets = new Map<string, number>();
    // Looked up once per pass: a database-managed integration costs a query and decrypting its secrets.
    const integrations = new Map<string, Promise<Integration>>();
    let checked = 0;
    let decided = 0;
    for (const approval of pending) {
      try {
        if (!integrations.has(approval.integration)) integrations.set(approval.integration, this.integrationOf(approval.integration));
        const integration = await integrations.get(approval.integration)!;
        const budget = budgets.get(integration.id) ?? this.clients.readsPerPass(integration, options.intervalSeconds);
        if (budget <= 0) continue;
        budgets.set(integration.id, budget - 1);
        checked++;
        const client = this.clients.forIntegration(integration);
        let result = approval;
        if (approval.imInstanceId) {
          result = await this.syncFromIm(approval, client, 'reconciler');
        } else if (Date.now() - Date.parse(approval.createdAt) > STRANDED_AFTER_MS) {
          result = await this.openImInstance(approval, 'reconciler');
        }
        if (isTerminal(result.status)) decided++;
        else await this.store.touch(approval.id);
      } catch (error) {
        this.logger.warn(`Could not reconcile approval ${approval.id}: ${(error as Error).message}`);
        if (error instanceof ImApiError && error.kind === 'rate_limited') break;
      }
    }
    return { checked, decided };
  }

  /** Expires pending approvals past their deadline and forgets old callback receipts. */
  async expireDue(): Promise<number> {
    const due = await this.store.listExpired(new Date(), 100);
    for (const approval of due) await this.expire(approval, 'scheduler');
    await this.store.pruneReceipts(new Date(Date.now() - RECEIPT_RETENTION_MS));
    return due.length;
  }

  private async expire(approval: Approval, source: TimelineSource): Promise<Approval> {
    const lifetime = (Date.parse(approval.expiresAt) - Date.parse(approval.createdAt)) / 1000;
    const why = approval.imInstanceId === null && approval.error ? `; the IM request was never created: ${approval.error}` : '';
    const expired = await this.store.transition(
      approval.id,
      { status: 'expired' },
      { type: 'expired', source, message: `No decision within ${formatDuration(lifetime)}${why}` },
    );
    if (!expired) return this.get(approval.id);
    this.changes.changed(approval.id);
    await this.revoke(expired, source);
    return expired;
  }

  private async syncFromIm(approval: Approval, client: ImClient, source: TimelineSource): Promise<Approval> {
    const state = await client.readInstance(approval.imInstanceId!);
    if (state.status === 'pending') return approval;
    const deleted = state.status === 'deleted';
    const status: TerminalStatus = state.status === 'deleted' ? 'failed' : state.status;
    const updated = await this.store.transition(
      approval.id,
      {
        status,
        decidedBy: state.decidedBy,
        comment: state.comment,
        decidedAt: notBefore(state.decidedAt, approval.createdAt),
        error: deleted ? 'The IM instance was deleted' : undefined,
      },
      { type: status, source, actor: state.decidedBy, message: deleted ? 'The IM instance was deleted' : state.comment },
    );
    if (!updated) return this.get(approval.id);
    this.logger.info(`Approval ${approval.id} ${status}${state.decidedBy ? ` by ${state.decidedBy}` : ''} (from ${source})`);
    this.changes.changed(approval.id);
    return updated;
  }

  private async openImInstance(approval: Approval, source: TimelineSource): Promise<Approval> {
    try {
      const template = await this.settings.template(approval.template);
      if (!template) throw new Error(`template "${approval.template}" no longer exists`);
      const client = this.clients.forIntegration(await this.integrationOf(approval.integration));
      const instance = await client.createInstance({
        approvalId: approval.id,
        form: template.form,
        title: approval.title,
        fields: approval.form,
        approvers: approval.approvers,
        approverMode: template.approverMode,
        initiator: template.initiator,
      });
      const attached = await this.store.attachInstance(approval.id, instance, {
        type: 'im_instance_created',
        source,
        message: `${approval.provider} instance ${instance.instanceId}`,
      });
      return attached ?? this.get(approval.id);
    } catch (error) {
      const message = (error as Error).message;
      if (error instanceof ImApiError && error.transient) {
        this.logger.warn(`Approval ${approval.id}: ${message}`);
        await this.store.recordImError(approval.id, { type: 'im_error', source, message });
        return { ...approval, error: message };
      }
      this.logger.error(`Approval ${approval.id} failed: ${message}`);
      const failed = await this.store.transition(
        approval.id,
        { status: 'failed', error: message },
        { type: 'failed', source, message },
      );
      if (failed) this.changes.changed(approval.id);
      return failed ?? this.get(approval.id);
    }
  }

  private async revoke(approval: Approval, source: TimelineSource) {
    if (!approval.imInstanceId) return;
    try {
      const client = this.clients.forIntegration(await this.integrationOf(approval.integration));
      const result = await client.cancelInstance(approval.imInstanceId);
      await this.store.appendEvent(approval.id, {
        type: result.revoked ? 'im_instance_revoked' : 'im_revoke_failed',
        source,
        message: result.revoked ? `${approval.provider} instance ${approval.imInstanceId} revoked` : result.message,
      });
    } catch (error) {
      await this.store.appendEvent(approval.id, { type: 'im_revoke_failed', source, message: (error as Error).message });
    }
  }

  private async integrationOf(id: string) {
    const integration = await this.settings.integration(id);
    if (!integration) throw new Error(`integration "${id}" no longer exists`);
    return integration;
  }

  private contextOf(caller: Caller, reported: RunContext | undefined): ApprovalContext {
    let run;
    if (caller.kind === 'github') {
      run = { ...caller.context, verified: true };
    } else if (reported) {
      run = { serverUrl: this.githubServerUrl, ...reported, verified: false };
    } else {
      throw new InputError('context: required when calling without a GitHub OIDC token (at least the repository)');
    }
    const runUrl =
      run.runId &&
      `${run.serverUrl ?? this.githubServerUrl}/${run.repository}/actions/runs/${run.runId}` +
        (run.runAttempt ? `/attempts/${run.runAttempt}` : '');
    return { ...run, caller: caller.id, ...(runUrl ? { runUrl } : {}) };
  }

  /** The caller's approval under a repeated idempotency key, if the request repeats what opened it. */
  private sameRequest(existing: IdempotentApproval, key: string, asked: IdempotentRequest): Approval {
    // Approvals opened before requests were recorded: the template and the repository must match.
    const stored = existing.request ?? {
      ...asked,
      template: existing.approval.template,
      context: { ...(asked.context as object), repository: existing.approval.context.repository },
    };
    const differing = differences(stored, asked);
    if (differing.length > 0) {
      throw new IdempotencyMismatchError(
        `idempotencyKey: "${key}" was already used for a different request (it differs in ${differing.join(', ')}); ` +
          'send a new key for a new request',
      );
    }
    return existing.approval;
  }
}
