import type {
  Approval,
  ApprovalContext,
  ApprovalStage,
  ApprovalFacets,
  FormValue,
  ListApprovalsQuery,
  Requester,
  TerminalStatus,
  TimelineEvent,
  TimelineEventType,
  TimelineSource,
} from '@im-approval/plugin-im-approval-common';
import type { ImPerson } from '@im-approval/plugin-im-approval-node';

export interface NewApproval {
  id: string;
  /** Who opened it: an idempotency key is theirs alone. */
  caller: string;
  idempotencyKey: string;
  /** The request as sent, so a reused key with another request can be told apart. */
  request: IdempotentRequest;
  template: string;
  integration: string;
  provider: string;
  title: string;
  context: ApprovalContext;
  variables: Record<string, string>;
  form: FormValue[];
  /** Everyone asked, in every stage. */
  approvers: string[];
  /** For a template with several stages: each with its own people; empty for one stage. */
  stages: ApprovalStage[];
  /** The catalog users among the approvers. */
  approverRefs: string[];
  requester: Requester;
  /** The IM contacts told of it who cannot decide. */
  cc: string[];
  expiresAt: Date;
  /** Its pending approvers are reminded every `everySeconds` from its creation until it ends; absent: never. */
  reminders?: { everySeconds: number };
  /** It is escalated to these IM contacts `afterSeconds` after its creation if still pending; absent: never. */
  escalation?: { afterSeconds: number; to: string[] };
  /** The group chat its card is posted to once its IM request is open; absent: no card. */
  cardChat?: string;
}

/** The parts of a create request that a reused idempotency key must repeat. */
export type IdempotentRequest = Record<string, unknown>;

/** An approval found by its caller and idempotency key, with the request that opened it (null before it was recorded). */
export interface IdempotentApproval {
  approval: Approval;
  request: IdempotentRequest | null;
}

export interface NewTimelineEvent {
  type: TimelineEventType;
  source: TimelineSource;
  actor?: string;
  message?: string;
}

export interface Decision {
  status: TerminalStatus;
  /** Who decided: a person in the IM, or the Backstage user or caller whose id stands for their name too. */
  decidedBy?: ImPerson;
  comment?: string;
  decidedAt?: Date;
  error?: string;
  /** The stages as the IM last told them, kept with the decision. */
  stages?: ApprovalStage[];
}

export interface ApprovalStore {
  /** Inserts, or returns the approval the caller already opened under the idempotency key (`created: false`). */
  insert(
    approval: NewApproval,
    event: NewTimelineEvent,
  ): Promise<IdempotentApproval & { created: boolean }>;
  get(id: string): Promise<Approval | undefined>;
  getByIdempotencyKey(
    caller: string,
    key: string,
  ): Promise<IdempotentApproval | undefined>;
  findByInstance(
    integration: string,
    instanceId: string,
  ): Promise<Approval | undefined>;
  /** `me`: the signed-in user's entity ref, for `query.mine`. */
  list(
    query: ListApprovalsQuery,
    me?: string,
  ): Promise<{ items: Approval[]; totalCount: number }>;
  /** The templates and repositories of the latest approvals, containing `q` when given. */
  facets(q?: string): Promise<ApprovalFacets>;
  timeline(id: string): Promise<TimelineEvent[]>;
  /**
   * Records the IM instance of a pending approval that has none yet, with `form`, when given, in
   * place of the stored form (its values with the labels the IM gave their fields); undefined
   * otherwise.
   */
  attachInstance(
    id: string,
    instance: { instanceId: string; url?: string; form?: FormValue[] },
    event: NewTimelineEvent,
  ): Promise<Approval | undefined>;
  /**
   * Moves a pending approval to a terminal status in one conditional update. Exactly one caller
   * wins; the others (and every caller once the approval is terminal) get undefined.
   */
  transition(
    id: string,
    decision: Decision,
    event: NewTimelineEvent,
  ): Promise<Approval | undefined>;
  /**
   * Records how far a pending approval's stages have come, with a timeline event for each stage
   * newly decided; undefined once the approval is no longer pending.
   */
  updateStages(
    id: string,
    stages: ApprovalStage[],
    events: NewTimelineEvent[],
    /** Written only if the stages are still these (undefined otherwise): two writers never lose one's change. */
    expected?: ApprovalStage[],
  ): Promise<Approval | undefined>;
  /** Another IM instance of the approval, one of a counting stage's requests: `findByInstance` finds it too. */
  linkInstance(
    approvalId: string,
    integration: string,
    instanceId: string,
  ): Promise<void>;
  appendEvent(id: string, event: NewTimelineEvent): Promise<void>;
  /** Keeps the IM's last error on a pending approval (and in its timeline), so it is shown if nothing else happens. */
  recordImError(
    id: string,
    event: NewTimelineEvent & { message: string },
  ): Promise<void>;
  /** Pending approvals, least recently checked first. */
  listPending(options: {
    limit: number;
    createdBefore?: Date;
  }): Promise<Approval[]>;
  listExpired(now: Date, limit: number): Promise<Approval[]>;
  /**
   * The latest approved approval of the same template, repository and environment (a template
   * test's has none): where "what changes" starts from.
   */
  lastApproved(approval: Approval): Promise<Approval | undefined>;
  /** Pending approvals whose next reminder is due, the longest overdue first. */
  listRemindersDue(now: Date, limit: number): Promise<Approval[]>;
  /**
   * Takes a due reminder for this caller alone: the next one moves on by the template's interval
   * (none past the deadline). Answers which reminder it is (1 for the first), or undefined when
   * another replica took it or the approval is no longer pending.
   */
  takeReminder(id: string, now: Date): Promise<number | undefined>;
  /** Pending approvals whose escalation is due, the longest overdue first. */
  listEscalationsDue(now: Date, limit: number): Promise<Approval[]>;
  /**
   * Takes a due escalation for this caller alone, for `leaseSeconds`: if it is not settled by then
   * (the replica stopped), it is due again. False when another replica holds it or it is not pending.
   */
  takeEscalation(id: string, now: Date, leaseSeconds: number): Promise<boolean>;
  /**
   * The escalation is over, whichever way: it is not tried again, the people it added in the IM
   * join the approvers, and the timeline says what was done.
   */
  settleEscalation(
    id: string,
    added: string[],
    event: NewTimelineEvent,
  ): Promise<void>;
  /** Records the card posted for the approval and the status it shows; false when one was recorded already. */
  attachCard(
    id: string,
    cardId: string,
    status: Approval['status'],
  ): Promise<boolean>;
  /** Records the status the approval's card now shows. */
  cardShows(id: string, status: Approval['status']): Promise<void>;
  /** The approval's group chat and, once posted, its card. */
  cardOf(id: string): Promise<{ chatId: string; cardId?: string } | undefined>;
  /**
   * Approvals whose card is behind: open in the IM with no card posted yet (pending ones), or
   * showing another status than theirs. What a restart or a failed call left undone.
   */
  listCardsBehind(limit: number): Promise<Approval[]>;
  /** Marks pending approvals as just reconciled so the next pass starts with others. */
  touch(ids: string[]): Promise<void>;
  /** The status and last write of each of these approvals that exists, for waiters that may have missed a change. */
  versions(
    ids: string[],
  ): Promise<
    Array<{ id: string; status: Approval['status']; updatedAt: string }>
  >;
}
