import type { LoggerService } from '@backstage/backend-plugin-api';
import type {
  Approval,
  ApprovalStage,
  Integration,
  TerminalStatus,
  TimelineSource,
} from '@im-approval/plugin-im-approval-common';
import type {
  ImClient,
  ImStageProgress,
} from '@im-approval/plugin-im-approval-node';
import type {
  ApprovalStore,
  Decision,
  NewTimelineEvent,
} from '../database/ApprovalStore';
import { storable } from '../database/storableText';
import type { ApprovalChanges } from '../waiting/ApprovalChanges';
import { counts } from './approvalStages';
import { closedStages, type CountedStages } from './CountedStages';
import { withHandovers } from './handovers';
import type { ImClients } from './ImClients';
import type { SettingsSource } from './SettingsSource';

export interface ApprovalTransitionsOptions {
  store: ApprovalStore;
  settings: SettingsSource;
  clients: ImClients;
  changes: ApprovalChanges;
  logger: LoggerService;
}

/**
 * When an IM says a decision was made, never before the approval existed: IMs report coarse times
 * (WeCom whole seconds, DingTalk whole minutes), so a quick decision would otherwise predate its request.
 */
function notBefore(
  decidedAt: Date | undefined,
  createdAt: string,
): Date | undefined {
  if (!decidedAt) return undefined;
  const created = new Date(createdAt);
  return decidedAt < created ? created : decidedAt;
}

/**
 * The one way an approval leaves `pending`: the store's conditional transition, then its waiters
 * woken (here and on other replicas), then its IM instance revoked when the decision was not the IM's.
 * API calls, IM events, the reconciler and the clock all end here.
 */
export class ApprovalTransitions {
  private readonly finishedListeners: Array<(approval: Approval) => void> = [];
  private readonly progressListeners: Array<(approval: Approval) => void> = [];
  /** Follows approvals whose stages count approvals, request by request. */
  counted?: CountedStages;

  constructor(private readonly options: ApprovalTransitionsOptions) {}

  /** Called, here, after each approval this process moves on (deployment gates answer GitHub from it). */
  onFinished(listener: (approval: Approval) => void) {
    this.finishedListeners.push(listener);
  }

  /** Called, here, after each change of a pending approval's stages (pages show them). */
  onProgress(listener: (approval: Approval) => void) {
    this.progressListeners.push(listener);
  }

  /**
   * Moves a pending approval on; undefined when it was no longer pending (another writer won).
   * `revoke`: the decision was made outside the IM, so the IM instance is withdrawn there too.
   */
  async finish(
    approval: Approval,
    decision: Decision,
    event: NewTimelineEvent,
    { revoke }: { revoke: boolean },
  ) {
    const finished = await this.options.store.transition(
      approval.id,
      // Decided outside the stages (an administrator, a cancel, the clock): the requests still
      // open are withdrawn with the rest.
      counts(approval) && !decision.stages
        ? { ...decision, stages: closedStages(approval.stages) }
        : decision,
      event,
    );
    if (!finished) return undefined;
    this.options.changes.changed(approval.id);
    this.finishedListeners.forEach(listener => listener(finished));
    // The approval's instance, or each counting stage's request still open when it ended.
    const open = counts(approval)
      ? approval.stages.flatMap(stage =>
          stage.requests.flatMap(r =>
            r.status === 'pending' && r.instanceId ? [r.instanceId] : [],
          ),
        )
      : [approval.imInstanceId ?? []].flat();
    if (revoke)
      for (const instanceId of open)
        await this.revoke(finished, instanceId, event.source);
    return finished;
  }

  /** Reads the approval's IM instance and, if it was decided or deleted there, moves the approval on. */
  async followIm(
    approval: Approval,
    client: ImClient,
    source: TimelineSource,
    /** The instance an IM event named, when it is one of a counting stage's requests. */
    instanceId?: string,
  ): Promise<Approval> {
    if (counts(approval) && this.counted)
      return this.counted.follow(approval, source, instanceId);
    const state = await client.readInstance(approval.imInstanceId!);
    const progress = stageProgress(approval, state.stages, source);
    if (state.status === 'pending') {
      if (!progress) return approval;
      return (await this.recordProgress(approval, progress)) ?? approval;
    }
    // Stages passed before the decision are in the timeline before it.
    if (progress && progress.events.length > 0)
      await this.recordProgress(approval, progress);
    const stages = progress?.stages;
    // Who decided may not be who was asked: the timeline says how the task got to them.
    const told = (message: string | undefined) =>
      withHandovers(message, approval.provider, [state]);
    if (
      state.status === 'approved' &&
      (await this.approvedByRequester(approval, client, state.decidedBy?.id))
    ) {
      // Recorded as it happened (who, and their comment), but it does not pass: the IM instance is
      // closed, so nobody else can approve it there either.
      const message = `Approved in ${approval.provider} by the requester, ${JSON.stringify(state.decidedBy!.name)}, who cannot approve their own request (the template does not allow self-approval)`;
      const refused = await this.finish(
        approval,
        {
          status: 'failed',
          decidedBy: state.decidedBy,
          comment: state.comment,
          decidedAt: notBefore(state.decidedAt, approval.createdAt),
          error: message,
          stages,
        },
        {
          type: 'failed',
          source,
          actor: state.decidedBy?.name,
          message: told(message),
        },
        { revoke: false },
      );
      return refused ?? (await this.options.store.get(approval.id)) ?? approval;
    }
    const deleted = state.status === 'deleted';
    const status: TerminalStatus =
      state.status === 'deleted' ? 'failed' : state.status;
    const message = deleted ? 'The IM instance was deleted' : state.comment;
    const updated = await this.finish(
      approval,
      {
        status,
        decidedBy: state.decidedBy,
        comment: state.comment,
        decidedAt: notBefore(state.decidedAt, approval.createdAt),
        error: deleted ? message : undefined,
        stages,
      },
      {
        type: status,
        source,
        actor: state.decidedBy?.name,
        message: told(message),
      },
      { revoke: false },
    );
    if (!updated)
      return (await this.options.store.get(approval.id)) ?? approval;
    // Quoted: a name from the IM is shown, never a line break that could pass for a log line of ours.
    this.options.logger.info(
      `Approval ${approval.id} ${status}${state.decidedBy ? ` by ${JSON.stringify(state.decidedBy.name)} (${JSON.stringify(state.decidedBy.id)})` : ''} (from ${source})`,
    );
    return updated;
  }

  private async recordProgress(
    approval: Approval,
    progress: { stages: ApprovalStage[]; events: NewTimelineEvent[] },
  ) {
    const updated = await this.options.store.updateStages(
      approval.id,
      progress.stages,
      progress.events,
    );
    if (updated) this.progressed(updated);
    return updated;
  }

  /** A pending approval's stages moved on: its waiters and pages are told. */
  progressed(approval: Approval) {
    this.options.changes.changed(approval.id);
    this.progressListeners.forEach(listener => listener(approval));
  }

  /** Whether the IM user who approved is the approval's requester, who the template did not let approve. */
  private async approvedByRequester(
    approval: Approval,
    client: ImClient,
    deciderId: string | undefined,
  ): Promise<boolean> {
    const requester = approval.requester;
    if (!deciderId || !requester?.imUser || requester.mayApprove) return false;
    const [requesterId] = await client.findUsers([requester.imUser]);
    return requesterId === deciderId;
  }

  /** The integration an approval or template names; gone only if someone removed it meanwhile. */
  async integrationOf(id: string): Promise<Integration> {
    const integration = await this.options.settings.integration(id);
    if (!integration) throw new Error(`integration "${id}" no longer exists`);
    return integration;
  }

  /** Why the integration cannot post group chat cards; undefined when it can. */
  cardsUnavailable(integration: Integration): string | undefined {
    return this.options.clients.cardsUnavailable(integration);
  }

  clientOf(integration: Integration): ImClient {
    return this.options.clients.forIntegration(integration);
  }

  /** The client of the approval's integration. */
  async clientOfApproval(
    approval: Pick<Approval, 'integration'>,
  ): Promise<ImClient> {
    return this.clientOf(await this.integrationOf(approval.integration));
  }

  private async revoke(
    approval: Approval,
    instanceId: string,
    source: TimelineSource,
  ) {
    const { store } = this.options;
    try {
      const client = await this.clientOfApproval(approval);
      const result = await client.cancelInstance(instanceId);
      await store.appendEvent(approval.id, {
        type: result.revoked ? 'im_instance_revoked' : 'im_revoke_failed',
        source,
        message: result.revoked
          ? `${approval.provider} instance ${instanceId} revoked`
          : result.message,
      });
    } catch (error) {
      await store.appendEvent(approval.id, {
        type: 'im_revoke_failed',
        source,
        message: (error as Error).message,
      });
    }
  }
}

/**
 * The approval's stages as the IM now tells them, with a timeline event for each stage newly
 * approved; undefined when nothing changed (or the approval has one stage, or the IM told nothing,
 * or its stages are counted request by request).
 */
function stageProgress(
  approval: Approval,
  told: ImStageProgress[] | undefined,
  source: TimelineSource,
): { stages: ApprovalStage[]; events: NewTimelineEvent[] } | undefined {
  if (!told || approval.stages.length === 0 || counts(approval))
    return undefined;
  // Some IMs tell only the stages reached so far: the rest are still waiting.
  if (told.length > approval.stages.length) return undefined;
  const stages = approval.stages.map((stage, i) => ({
    ...stage,
    status: told[i]?.status ?? 'waiting',
    approvedBy: told[i]?.approvedBy.map(person => storable(person.name)) ?? [],
    waitingOn: told[i]?.waitingOn.map(id => storable(id)) ?? [],
  }));
  if (JSON.stringify(stages) === JSON.stringify(approval.stages))
    return undefined;
  const events = stages.flatMap((stage, i): NewTimelineEvent[] =>
    stage.status === 'approved' && approval.stages[i].status !== 'approved'
      ? [
          {
            type: 'stage_approved',
            source,
            actor: stage.approvedBy.join(', ') || undefined,
            message: `Stage ${i + 1} of ${stages.length}${stage.name ? ` (${JSON.stringify(stage.name)})` : ''} approved${stage.approvedBy.length > 0 ? ` by ${stage.approvedBy.map(name => JSON.stringify(name)).join(', ')}` : ''}`,
          },
        ]
      : [],
  );
  return { stages, events };
}
