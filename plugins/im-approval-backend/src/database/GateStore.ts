import type {
  ApprovalContext,
  GithubDelivery,
} from '@im-approval/plugin-im-approval-common';

/** What a gate opens its approval with, kept so that any replica can open it again after a crash. */
export interface GateRequest {
  template: string;
  context: ApprovalContext;
  variables: Record<string, string>;
  /** Seconds; the template's default when absent. */
  timeout?: number;
}

/** What GitHub is owed, when it is known without an approval; `none` when nothing is (the run is gone). */
export type GateVerdict = 'approved' | 'rejected' | 'none';

export interface NewGateRecord {
  id: string;
  gate: string;
  repository: string;
  runId: string;
  environment: string;
  installationId: string;
  request: GateRequest;
  verdict?: { state: GateVerdict; comment: string };
}

export interface GateRecord extends NewGateRecord {
  approvalId: string | null;
  /** Attempts to send the verdict so far, the current one included once claimed. */
  reportAttempts: number;
}

/** Jobs held by GitHub for a deployment gate, and what GitHub is owed for each. */
export interface GateStore {
  /** Records a requested job, or answers the one already recorded under its id (`created: false`). */
  insert(
    record: NewGateRecord,
  ): Promise<{ record: GateRecord; created: boolean }>;
  get(id: string): Promise<GateRecord | undefined>;
  byApproval(approvalId: string): Promise<GateRecord | undefined>;
  linkApproval(id: string, approvalId: string): Promise<void>;
  /** The run's jobs whose verdict is not sent yet. */
  unreportedForRun(repository: string, runId: string): Promise<GateRecord[]>;
  /** Sets what GitHub is owed, unless it was sent already. */
  setVerdict(id: string, state: GateVerdict, comment: string): Promise<void>;
  /** Jobs with neither an approval nor a verdict, requested before `before`: a replica died opening them. */
  listUnopened(before: Date, limit: number): Promise<GateRecord[]>;
  /** Claims jobs whose verdict is due (a verdict set, or the approval ended) and whose time has come. */
  claimDue(limit: number, leaseMs: number): Promise<GateRecord[]>;
  markReported(id: string, state: string, error?: string): Promise<void>;
  retryLater(id: string, error: string, delayMs: number): Promise<void>;
  /** Takes one of the job's `limit` status reports; false when all are used. */
  takeStatusReport(id: string, limit: number): Promise<boolean>;
  recordDelivery(delivery: GithubDelivery & { id: string }): Promise<void>;
  hasDelivery(id: string): Promise<boolean>;
  /** Forgets deliveries received before `before` (GitHub redelivers only within 3 days); returns how many. */
  pruneDeliveries(before: Date): Promise<number>;
  deliveries(limit: number): Promise<GithubDelivery[]>;
}
