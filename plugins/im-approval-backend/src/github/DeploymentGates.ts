import type {
  LoggerService,
  SchedulerService,
} from '@backstage/backend-plugin-api';
import { InputError, NotAllowedError } from '@backstage/errors';
import {
  isTerminal,
  type Approval,
  type ApprovalContext,
  type Gate,
  type GithubDelivery,
  type GithubSetup,
} from '@im-approval/plugin-im-approval-common';
import { createHash } from 'node:crypto';
import type { ApprovalStore } from '../database/ApprovalStore';
import type { GateRecord, GateStore } from '../database/GateStore';
import type { ApprovalService } from '../service/ApprovalService';
import { IdempotencyMismatchError } from '../service/IdempotencyMismatchError';
import type { ApprovalTransitions } from '../service/ApprovalTransitions';
import type { ImInstanceOpener } from '../service/ImInstanceOpener';
import type { SettingsSource } from '../service/SettingsSource';
import {
  fitComment,
  inertMarkdown,
  plainVerdict,
  retryingReport,
  verdictComment,
  waitingReport,
} from './gateComments';
import {
  CALLBACK_PATH,
  type DeploymentProtectionRuleEvent,
} from './githubEvents';
import type { GithubSettings } from '../settings/GithubSettings';
import {
  GithubCallError,
  type GithubAppClient,
  type HeldJob,
} from './GithubAppClient';
import { renderText, templateVariables } from '../templates/renderTemplate';
import { matchGate } from './matchGate';
import { approvalPage } from '../service/approvalPage';

/** An event acknowledged and left alone (no gate covers it). */
export class IgnoredEvent extends Error {
  name = 'IgnoredEvent';
}

/** GitHub shows at most this many status reports per deployment. */
export const STATUS_REPORT_LIMIT = 10;
/** A claim on a verdict lasts this long: a replica that dies holding it hands it on after this. */
const REPORT_LEASE_MS = 60_000;
/** A job still without an approval this long after its webhook was answered is opened again. */
const UNOPENED_AFTER_MS = 30_000;
const MAX_BACKOFF_MS = 10 * 60_000;
/** Deliveries are kept a week for the console and deduplication; GitHub redelivers within 3 days. */
const DELIVERY_RETENTION_MS = 7 * 86_400_000;
const PRUNE_EVERY_MS = 3_600_000;
const BATCH = 50;

export interface DeploymentGatesOptions {
  /** The App and the gates, wherever they are defined. */
  github: GithubSettings;
  store: GateStore;
  approvals: ApprovalStore;
  service: ApprovalService;
  settings: SettingsSource;
  opener: ImInstanceOpener;
  transitions: ApprovalTransitions;
  githubServerUrl: string;
  /** The Backstage app's URL, for links to an approval; none when unknown. */
  appBaseUrl?: string;
  logger: LoggerService;
}

/** Seconds to wait before the attempt after `attempts`: 2 s, 4 s, 8 s… at most 10 minutes. */
export function reportBackoffMs(attempts: number): number {
  return Math.min(MAX_BACKOFF_MS, 1000 * 2 ** Math.min(attempts, 20));
}

/** One job GitHub holds, whatever GitHub redelivers: the run, the environment, the deployment. */
export function heldJobKey(
  repository: string,
  runId: string,
  environment: string,
  deploymentId: string,
): string {
  return createHash('sha256')
    .update(
      [repository.toLowerCase(), runId, environment, deploymentId].join('\n'),
    )
    .digest('hex');
}

function heldJob(record: GateRecord): HeldJob {
  return {
    repository: record.repository,
    runId: record.runId,
    environment: record.environment,
    installationId: record.installationId,
  };
}

/**
 * Deployment gates (GitHub custom deployment protection rules): a held job opens an IM approval,
 * and its decision goes back to GitHub, once, from whichever replica claims it, retried with backoff
 * until GitHub has it. No runner waits.
 */
export class DeploymentGates {
  private readonly background = new Set<Promise<unknown>>();
  private readonly ignoredOnce = new Set<string>();
  private prunedAt = 0;

  constructor(private readonly options: DeploymentGatesOptions) {
    options.transitions.onFinished(approval => {
      if (approval.context.gate) this.inBackground(this.reportDue());
    });
    // Whoever opens the IM instance (here after the webhook, or the reconciler's retry), the run page hears of it.
    options.opener.onAttempt(approval => {
      if (approval.context.gate)
        this.inBackground(this.reportAttempt(approval));
    });
  }

  /** Every replica sweeps (a claim gives each verdict to one): verdicts due, and jobs a crash left unopened. */
  async schedule(scheduler: SchedulerService) {
    await scheduler.scheduleTask({
      id: 'im-approval-github-gates',
      scope: 'local',
      frequency: { seconds: 5 },
      timeout: { minutes: 5 },
      fn: async () => {
        await this.openUnopened();
        await this.reportDue();
        if (Date.now() - this.prunedAt > PRUNE_EVERY_MS) {
          this.prunedAt = Date.now();
          await this.options.store.pruneDeliveries(
            new Date(Date.now() - DELIVERY_RETENTION_MS),
          );
        }
      },
    });
  }

  /** Waits for work started here to end (shutdown, tests). */
  async settled() {
    while (this.background.size > 0)
      await Promise.allSettled([...this.background]);
  }

  /** A job targets an environment: record it, store its approval, and open the IM instance after GitHub is answered. */
  async requested(event: DeploymentProtectionRuleEvent): Promise<string> {
    const repository = event.repository.full_name;
    const { environment } = event;
    const gate = matchGate(
      await this.options.github.gates(),
      repository,
      environment,
    );
    if (!gate) {
      const what = `${repository} environment "${environment}"`;
      if (!this.ignoredOnce.has(what)) {
        // Logged once each; bounded, so many environments cannot grow the set without end.
        if (this.ignoredOnce.size >= 1000) this.ignoredOnce.clear();
        this.ignoredOnce.add(what);
        this.options.logger.info(
          `Ignored a deployment protection rule for ${JSON.stringify(what)}: no gate in imApproval.gates covers it`,
        );
      }
      throw new IgnoredEvent(`no gate covers ${what}`);
    }
    const runId = CALLBACK_PATH.exec(
      new URL(event.deployment_callback_url).pathname,
    )![3];
    const deploymentId = String(event.deployment?.id ?? '');
    const id = heldJobKey(repository, runId, environment, deploymentId);
    const { record, created } = await this.options.store.insert({
      id,
      gate: gate.name,
      repository,
      runId,
      environment,
      installationId: String(event.installation.id),
      request: {
        template: gate.template,
        context: this.contextOf(event, gate, runId),
        variables: {
          event: event.event ?? '',
          pullRequests:
            event.pull_requests?.map(pr => `#${pr.number}`).join(', ') ||
            'none',
          ...gate.variables,
        },
        timeout: gate.timeout,
      },
    });
    if (!created && (record.approvalId || record.verdict))
      return `already recorded: job ${id.slice(0, 12)} of run ${runId}`;
    return this.store(record);
  }

  /** The run is over (cancelled, or finished without the job): its held jobs' approvals are cancelled and their IM instances revoked. */
  async runCompleted(repository: string, runId: string, conclusion: string) {
    const held = await this.options.store.unreportedForRun(repository, runId);
    const message = `The workflow run ${conclusion === 'cancelled' ? 'was cancelled' : `completed (${conclusion || 'no conclusion'})`} on GitHub`;
    let cancelled = 0;
    for (const record of held) {
      await this.options.store.setVerdict(record.id, 'none', message);
      if (!record.approvalId) continue;
      const approval = await this.options.approvals.get(record.approvalId);
      if (!approval || isTerminal(approval.status)) continue;
      const done = await this.options.transitions.finish(
        approval,
        {
          status: 'canceled',
          decidedBy: { id: 'github', name: 'GitHub' },
          comment: message,
        },
        { type: 'canceled', source: 'github', actor: 'GitHub', message },
        { revoke: true },
      );
      if (done) cancelled++;
    }
    return cancelled > 0
      ? `cancelled ${cancelled} approval(s) of run ${runId}`
      : `no pending approval for run ${runId}`;
  }

  /** Sends every verdict that is due and claimed here; the sweep and each decision call it. */
  async reportDue(): Promise<number> {
    const due = await this.options.store.claimDue(BATCH, REPORT_LEASE_MS);
    for (const record of due) await this.report(record);
    return due.length;
  }

  /** Posts a status report on the run page, unless the job's reports are used up. */
  async statusReport(record: GateRecord, comment: string): Promise<boolean> {
    const { store, logger } = this.options;
    if (!(await store.takeStatusReport(record.id, STATUS_REPORT_LIMIT)))
      return false;
    try {
      await (
        await this.client()
      ).review(heldJob(record), { comment: fitComment(comment) });
      return true;
    } catch (error) {
      // A report is information, not the verdict: it is not retried.
      logger.warn(
        `Could not post a status report for ${record.repository} run ${record.runId}: ${(error as Error).message}`,
      );
      return false;
    }
  }

  /** What the console shows: where to point the GitHub App, and what it has received. */
  async setup(
    base: Pick<GithubSetup, 'webhookUrl' | 'permissions' | 'events'>,
    refused: GithubDelivery[],
  ): Promise<GithubSetup> {
    const { github, store } = this.options;
    const stored = await store.deliveries(50);
    const deliveries = [...stored, ...refused]
      .sort((a, b) => b.receivedAt.localeCompare(a.receivedAt))
      .slice(0, 50);
    return {
      ...base,
      app: await github.appView(),
      appEditable: github.appEditable,
      gates: await github.gateViews(),
      deliveries,
    };
  }

  private async openUnopened() {
    const stale = await this.options.store.listUnopened(
      new Date(Date.now() - UNOPENED_AFTER_MS),
      BATCH,
    );
    for (const record of stale) await this.store(record);
  }

  /** Stores the job's approval (or the verdict its policy gives) and opens the IM instance in the background. */
  private async store(record: GateRecord): Promise<string> {
    const { settings, service, store } = this.options;
    const { request } = record;
    const template = await settings.template(request.template);
    let stored;
    try {
      if (!template)
        throw new InputError(
          `gate "${record.gate}" names template "${request.template}", which does not exist`,
        );
      // A gate's variables may use the run's values too (`service: $${repository}`).
      const values = templateVariables(request.context, request.variables);
      const variables = Object.fromEntries(
        Object.entries(request.variables).map(([name, text]) => [
          name,
          renderText(text, values, `gate "${record.gate}" variable "${name}"`),
        ]),
      );
      stored = await service.storeForGate(template, {
        idempotencyKey: `gate:${record.id}`,
        context: request.context,
        variables,
        timeout: request.timeout,
      });
    } catch (error) {
      if (!(
        error instanceof NotAllowedError ||
        error instanceof InputError ||
        error instanceof IdempotencyMismatchError
      ))
        throw error;
      const comment = fitComment(
        `Rejected by gate ${inertMarkdown(record.gate)}: ${inertMarkdown(error.message)}`,
      );
      await store.setVerdict(record.id, 'rejected', comment);
      this.inBackground(this.reportDue());
      return `rejected: ${error.message}`;
    }
    const { approval } = stored;
    await store.linkApproval(record.id, approval.id);
    if (!approval.imInstanceId && !isTerminal(approval.status))
      this.inBackground(this.options.opener.open(approval, 'github'));
    return `approval ${approval.id} for run ${record.runId}`;
  }

  private async reportAttempt(approval: Approval) {
    const record = await this.options.store.byApproval(approval.id);
    if (!record) return;
    await this.statusReport(
      record,
      approval.imInstanceId
        ? waitingReport(approval, this.approvalUrl(approval.id))
        : retryingReport(approval),
    );
  }

  private async report(record: GateRecord) {
    const { store, approvals, logger } = this.options;
    try {
      let verdict = record.verdict;
      if (!verdict) {
        const approval = await approvals.get(record.approvalId!);
        if (!approval)
          throw new Error(`approval ${record.approvalId} vanished`);
        verdict = verdictComment(approval, this.approvalUrl(approval.id));
      }
      if (verdict.state === 'none') {
        await store.markReported(record.id, 'none');
        return;
      }
      await this.sendVerdict(record, verdict.state, verdict.comment);
      await store.markReported(record.id, verdict.state);
      logger.info(
        `Answered GitHub for ${record.repository} run ${record.runId} environment ${JSON.stringify(record.environment)}: ${verdict.state}`,
      );
    } catch (error) {
      const message = (error as Error).message;
      if (error instanceof GithubCallError && error.gone) {
        logger.warn(
          `GitHub no longer holds ${record.repository} run ${record.runId} (${message}); nothing more is sent`,
        );
        await store.markReported(record.id, 'gone', message);
        return;
      }
      const delay = reportBackoffMs(record.reportAttempts);
      logger.warn(
        `Could not answer GitHub for ${record.repository} run ${record.runId}, retrying in ${Math.round(delay / 1000)} s: ${message}`,
      );
      await store.retryLater(record.id, message, delay);
    }
  }

  /**
   * The review with its comment; when GitHub refuses it (422: its limits on comments are not all
   * documented), once more with a comment of our own words only, so no text from people can stop
   * the job's verdict. A job GitHub no longer holds refuses both.
   */
  private async sendVerdict(
    record: GateRecord,
    state: 'approved' | 'rejected',
    comment: string,
  ) {
    const client = await this.client();
    try {
      await client.review(heldJob(record), { state, comment });
    } catch (error) {
      if (!(error instanceof GithubCallError && error.status === 422))
        throw error;
      await client.review(heldJob(record), {
        state,
        comment: plainVerdict(state),
      });
    }
  }

  private contextOf(
    event: DeploymentProtectionRuleEvent,
    gate: Gate,
    runId: string,
  ): ApprovalContext {
    const repository = event.repository.full_name;
    const server = this.options.githubServerUrl;
    const actor = event.deployment?.creator?.login ?? event.sender?.login;
    return {
      repository,
      ...((event.ref ?? event.deployment?.ref)
        ? { ref: event.ref ?? event.deployment?.ref }
        : {}),
      ...((event.sha ?? event.deployment?.sha)
        ? { sha: event.sha ?? event.deployment?.sha }
        : {}),
      ...(actor ? { actor } : {}),
      environment: event.environment,
      ...(event.event ? { eventName: event.event } : {}),
      runId,
      serverUrl: server,
      verified: true,
      // Its own caller, so no workflow of the repository can hold the job's idempotency key first.
      caller: `github-gate:${repository}`,
      runUrl: `${server}/${repository}/actions/runs/${runId}`,
      gate: gate.name,
    };
  }

  private async client(): Promise<GithubAppClient> {
    const client = await this.options.github.client();
    if (!client)
      throw new GithubCallError(
        'no GitHub App is configured (imApproval.github.app, or the Deployment gates tab)',
        undefined,
      );
    return client;
  }

  private approvalUrl(id: string): string | undefined {
    return approvalPage(this.options.appBaseUrl, id);
  }

  private inBackground(work: Promise<unknown>) {
    const tracked = work
      .catch(error =>
        this.options.logger.warn(
          `Deployment gate work failed: ${(error as Error).message}`,
        ),
      )
      .finally(() => this.background.delete(tracked));
    this.background.add(tracked);
  }
}
