import type { LoggerService } from '@backstage/backend-plugin-api';
import type {
  Approval,
  ApprovalStage,
  TimelineSource,
} from '@im-approval/plugin-im-approval-common';
import type {
  ImClient,
  ImInstanceState,
} from '@im-approval/plugin-im-approval-node';
import { createHash } from 'node:crypto';
import type {
  ApprovalStore,
  NewTimelineEvent,
} from '../database/ApprovalStore';
import { storable } from '../database/storableText';
import { withHandovers } from './handovers';
import { needed } from './approvalStages';
import type { ApprovalTransitions } from './ApprovalTransitions';
import type { ImInstanceOpener } from './ImInstanceOpener';

/** Writes lost to another writer of the same stages are tried again this many times. */
const MAX_WRITES = 20;

/** A request's own idempotency key in the IM: the same for every attempt to open it. */
function requestKey(approvalId: string, stage: number, approver: string) {
  const hex = createHash('sha256')
    .update(`${approvalId}\u0000${stage}\u0000${approver}`)
    .digest('hex');
  // Shaped as a version 4 uuid, which is what IMs take as an idempotency key.
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${((parseInt(hex[16], 16) & 3) | 8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function stageLabel(stage: ApprovalStage, index: number, of: number) {
  return stage.name ?? `stage ${index + 1} of ${of}`;
}

/** How a stage stands once its requests are as they are now. */
function standing(stage: ApprovalStage): 'approved' | 'rejected' | 'pending' {
  const approved = stage.requests.filter(r => r.status === 'approved').length;
  const open = stage.requests.filter(r => r.status === 'pending').length;
  if (approved >= needed(stage)) return 'approved';
  return approved + open < needed(stage) ? 'rejected' : 'pending';
}

/** The stage's names and ids, as its requests now say. */
function summarized(stage: ApprovalStage): ApprovalStage {
  return {
    ...stage,
    approvedBy: stage.requests.flatMap(r =>
      r.status === 'approved' ? [r.decidedBy ?? r.approver] : [],
    ),
    rejectedBy: stage.requests.flatMap(r =>
      r.status === 'rejected' ? [r.decidedBy ?? r.approver] : [],
    ),
    waitingOn:
      stage.status === 'pending'
        ? stage.requests.flatMap(r =>
            r.status === 'pending' ? [r.approver] : [],
          )
        : [],
  };
}

/** Every request still open withdrawn: the approval ended without them. */
export function closedStages(stages: ApprovalStage[]): ApprovalStage[] {
  return stages.map(stage =>
    summarized({
      ...stage,
      status: stage.status === 'pending' ? 'waiting' : stage.status,
      requests: stage.requests.map(r =>
        r.status === 'pending' ? { ...r, status: 'closed' as const } : r,
      ),
    }),
  );
}

/**
 * Stages that count approvals (`atLeast` N of M, which no IM can say): each approver of the stage
 * being decided gets an IM request of their own; the backend counts their decisions, decides the
 * stage when N have approved (or when N can no longer be reached), withdraws the requests left
 * open, and opens the next stage's. Changes to an approval's stages are compare-and-set, so
 * decisions read at once by two events or two replicas are each counted once.
 */
export class CountedStages {
  /** One pass per approval at a time in this process: an approver's request is opened once. */
  private readonly busy = new Map<string, Promise<Approval>>();

  constructor(
    private readonly options: {
      store: ApprovalStore;
      opener: ImInstanceOpener;
      transitions: ApprovalTransitions;
      logger: LoggerService;
    },
  ) {}

  /** Opens the requests of the stage being decided that have no IM instance yet. */
  open(approval: Approval, source: TimelineSource): Promise<Approval> {
    return this.serially(approval.id, () => this.openNow(approval, source));
  }

  /**
   * Reads the stage's requests (the one instance an event named, or all that are open), records
   * their decisions, and moves the stage, and the approval, on.
   */
  follow(
    approval: Approval,
    source: TimelineSource,
    instanceId?: string,
  ): Promise<Approval> {
    return this.serially(approval.id, () =>
      this.followNow(approval, source, instanceId),
    );
  }

  private async serially(id: string, work: () => Promise<Approval>) {
    const earlier = this.busy.get(id);
    const run = (earlier ?? Promise.resolve())
      .catch(() => undefined)
      .then(work);
    this.busy.set(id, run);
    try {
      return await run;
    } finally {
      if (this.busy.get(id) === run) this.busy.delete(id);
    }
  }

  private async openNow(
    approval: Approval,
    source: TimelineSource,
  ): Promise<Approval> {
    const { store, opener } = this.options;
    const { client, request } = await opener.requestFor(approval);
    let current = (await store.get(approval.id)) ?? approval;
    for (;;) {
      if (current.status !== 'pending') return current;
      const at = current.stages.findIndex(stage => stage.status === 'pending');
      if (at < 0) return current;
      const stage = current.stages[at];
      const unopened = stage.requests.find(
        r => r.status === 'pending' && r.instanceId === null,
      );
      if (!unopened) return current;
      const instance = await client.createInstance({
        ...request,
        approvalId: requestKey(current.id, at, unopened.approver),
        title: `${request.title} · ${stageLabel(stage, at, current.stages.length)}: ${needed(stage)} of ${stage.approvers.length} must approve`,
        note: `${needed(stage)} of ${stage.approvers.length} must approve`,
        // CC recipients are told once, by the first request, not once per approver.
        cc: current.imInstanceId === null ? request.cc : undefined,
        stages: [
          {
            ...(stage.name === null ? {} : { name: stage.name }),
            approvers: [unopened.approver],
            rule: 'all',
          },
        ],
      });
      await store.linkInstance(
        current.id,
        current.integration,
        instance.instanceId,
      );
      const message = `${current.provider} instance ${instance.instanceId} for ${unopened.approver} (${stageLabel(stage, at, current.stages.length)})`;
      // The first request's creation is recorded when it is attached as the approval's instance.
      const attached = current.imInstanceId !== null;
      const written = await this.write(current, stages => ({
        stages: stages.map((s, i) =>
          i !== at
            ? s
            : {
                ...s,
                requests: s.requests.map(r =>
                  r.approver === unopened.approver && r.instanceId === null
                    ? {
                        ...r,
                        instanceId: instance.instanceId,
                        url: instance.url ?? null,
                      }
                    : r,
                ),
              },
        ),
        events: attached
          ? [{ type: 'im_instance_created', source, message }]
          : [],
      }));
      if (!written) return (await store.get(current.id)) ?? current;
      current = written;
      // The first request is the approval's own instance: the reconciler follows approvals that have one.
      if (!current.imInstanceId)
        current =
          (await store.attachInstance(
            current.id,
            { instanceId: instance.instanceId, url: instance.url },
            { type: 'im_instance_created', source, message },
          )) ?? current;
    }
  }

  private async followNow(
    approval: Approval,
    source: TimelineSource,
    instanceId?: string,
  ): Promise<Approval> {
    const { store, transitions } = this.options;
    const client = await transitions.clientOfApproval(approval);
    const current = (await store.get(approval.id)) ?? approval;
    if (current.status !== 'pending') return current;
    const at = current.stages.findIndex(stage => stage.status === 'pending');
    if (at < 0) return current;
    const asked = current.stages[at].requests.filter(
      r =>
        r.status === 'pending' &&
        r.instanceId !== null &&
        (instanceId === undefined || r.instanceId === instanceId),
    );
    // Requests without an instance yet (a create that failed) are opened now.
    const reopened = current.stages[at].requests.some(
      r => r.status === 'pending' && r.instanceId === null,
    )
      ? await this.openNow(current, source)
      : current;
    const decided = new Map<string, ImInstanceState>();
    for (const r of asked) {
      const state = await client.readInstance(r.instanceId!);
      if (state.status !== 'pending') decided.set(r.instanceId!, state);
    }
    if (decided.size === 0) return reopened;
    return this.apply(reopened, at, decided, client, source);
  }

  /** Records the decisions read, and what they make of the stage and the approval. */
  private async apply(
    approval: Approval,
    at: number,
    decided: Map<string, ImInstanceState>,
    client: ImClient,
    source: TimelineSource,
  ): Promise<Approval> {
    const { store, transitions } = this.options;
    // Requests decided now whose task was handed on in the IM: the stage's outcome says how it got
    // to who decided.
    const told = (message: string) =>
      withHandovers(message, approval.provider, [...decided.values()]);
    // What the last write made of the stage (a write lost to another writer is made again).
    const made: {
      outcome?: {
        stage: 'approved' | 'rejected';
        closed: string[];
        last?: Exclude<ImInstanceState, { status: 'pending' }>;
      };
    } = {};
    const written = await this.write(approval, stages => {
      const stage = stages[at];
      if (stage.status !== 'pending') return undefined;
      let last: Exclude<ImInstanceState, { status: 'pending' }> | undefined;
      const requests = stage.requests.map(r => {
        const state = r.instanceId ? decided.get(r.instanceId) : undefined;
        if (r.status !== 'pending' || !state || state.status === 'pending')
          return r;
        last = state;
        return {
          ...r,
          status:
            state.status === 'approved' || state.status === 'rejected'
              ? state.status
              : ('closed' as const),
          // Text from the IM, kept as approval.decidedBy and comment are: NUL shown as U+FFFD.
          decidedBy: storable(state.decidedBy?.name),
          comment: storable(state.comment),
          decidedAt: (state.decidedAt ?? new Date()).toISOString(),
        };
      });
      const counted = { ...stage, requests };
      const now = standing(counted);
      const closing =
        now === 'pending'
          ? []
          : requests.filter(r => r.status === 'pending' && r.instanceId);
      made.outcome =
        now === 'pending'
          ? undefined
          : { stage: now, closed: closing.map(r => r.instanceId!), last };
      const updated = stages.map((s, i) => {
        if (i === at)
          return summarized({
            ...counted,
            status: now,
            requests: requests.map(r =>
              now !== 'pending' && r.status === 'pending'
                ? { ...r, status: 'closed' as const }
                : r,
            ),
          });
        // The next stage is asked once this one passes.
        if (i === at + 1 && now === 'approved')
          return summarized({ ...s, status: 'pending' });
        return s;
      });
      const label = stageLabel(stage, at, stages.length);
      const events: NewTimelineEvent[] =
        now === 'approved'
          ? [
              {
                type: 'stage_approved',
                source,
                actor: updated[at].approvedBy.join(', ') || undefined,
                message: told(
                  `Stage ${at + 1} of ${stages.length}${stage.name ? ` (${JSON.stringify(stage.name)})` : ''} approved: ${updated[at].approvedBy.length} of ${stage.approvers.length}, ${needed(stage)} needed (${updated[at].approvedBy.map(n => JSON.stringify(n)).join(', ')})`,
                ),
              },
            ]
          : [];
      if (now === 'rejected')
        this.options.logger.info(
          `Approval ${approval.id}: ${label} can no longer reach ${needed(stage)} approvals`,
        );
      return { stages: updated, events };
    });
    if (!written) return (await store.get(approval.id)) ?? approval;
    const { outcome } = made;
    if (!outcome) {
      transitions.progressed(written);
      return written;
    }
    const reason =
      outcome.stage === 'approved'
        ? `${needed(written.stages[at])} of ${written.stages[at].approvers.length} approved ${stageLabel(written.stages[at], at, written.stages.length)}`
        : `${stageLabel(written.stages[at], at, written.stages.length)} can no longer reach ${needed(written.stages[at])} approvals`;
    await this.close(written, outcome.closed, client, source, reason);
    if (outcome.stage === 'rejected' || at === written.stages.length - 1) {
      const status = outcome.stage;
      const by = outcome.last?.decidedBy;
      const finished = await transitions.finish(
        written,
        {
          status,
          decidedBy: by,
          comment: outcome.last?.comment,
          decidedAt: new Date(),
          stages: written.stages,
        },
        {
          type: status,
          source,
          actor: by?.name,
          // An approved stage's event has told them already.
          message: status === 'rejected' ? told(reason) : reason,
        },
        { revoke: false },
      );
      return finished ?? (await store.get(approval.id)) ?? written;
    }
    transitions.progressed(written);
    return this.openNow(written, source);
  }

  /** Withdraws requests left open in the IM, saying why where the IM shows a reason. */
  private async close(
    approval: Approval,
    instanceIds: string[],
    client: ImClient,
    source: TimelineSource,
    reason: string,
  ) {
    for (const instanceId of instanceIds) {
      try {
        const result = await client.cancelInstance(instanceId, reason);
        await this.options.store.appendEvent(approval.id, {
          type: result.revoked ? 'im_instance_revoked' : 'im_revoke_failed',
          source,
          message: result.revoked
            ? `${approval.provider} instance ${instanceId} withdrawn: ${reason}`
            : result.message,
        });
      } catch (error) {
        await this.options.store.appendEvent(approval.id, {
          type: 'im_revoke_failed',
          source,
          message: (error as Error).message,
        });
      }
    }
  }

  /**
   * Compare-and-set of the approval's stages: `change` is applied to the stages as stored and
   * written only if nobody wrote them meanwhile, else tried again on the newer ones. Undefined once
   * the approval is no longer pending, or when `change` has nothing to do.
   */
  private async write(
    approval: Approval,
    change: (
      stages: ApprovalStage[],
    ) => { stages: ApprovalStage[]; events: NewTimelineEvent[] } | undefined,
  ): Promise<Approval | undefined> {
    const { store } = this.options;
    let current: Approval | undefined = approval;
    for (let attempt = 0; attempt < MAX_WRITES; attempt++) {
      if (!current || current.status !== 'pending') return undefined;
      const next = change(current.stages);
      if (!next) return undefined;
      const written = await store.updateStages(
        current.id,
        next.stages,
        next.events,
        current.stages,
      );
      if (written) return written;
      current = await store.get(approval.id);
    }
    throw new Error(
      `approval ${approval.id}: its stages changed under every one of ${MAX_WRITES} writes`,
    );
  }
}
