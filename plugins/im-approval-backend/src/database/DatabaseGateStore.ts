import type { GithubDelivery } from '@im-approval/plugin-im-approval-common';
import type { Knex } from 'knex';
import type {
  GateRecord,
  GateStore,
  GateVerdict,
  NewGateRecord,
} from './GateStore';
import { iso, type Timestamp } from './rows';
import { storable } from './storableText';

const GATES = 'im_approval_github_gates';
const DELIVERIES = 'im_approval_github_deliveries';
const APPROVALS = 'im_approval_approvals';

interface GateRow {
  id: string;
  gate: string;
  repository: string;
  run_id: string;
  environment: string;
  installation_id: string;
  request: string;
  approval_id: string | null;
  verdict_state: GateVerdict | null;
  verdict_comment: string | null;
  report_attempts: number;
  next_report_at: Timestamp;
}

function recordOf(row: GateRow): GateRecord {
  return {
    id: row.id,
    gate: row.gate,
    repository: row.repository,
    runId: row.run_id,
    environment: row.environment,
    installationId: row.installation_id,
    request: JSON.parse(row.request),
    approvalId: row.approval_id,
    verdict: row.verdict_state
      ? { state: row.verdict_state, comment: row.verdict_comment ?? '' }
      : undefined,
    reportAttempts: row.report_attempts,
  };
}

export class DatabaseGateStore implements GateStore {
  constructor(private readonly knex: Knex) {}

  async insert(record: NewGateRecord) {
    const now = new Date();
    const inserted = await this.knex(GATES)
      .insert({
        id: record.id,
        gate: record.gate,
        repository: record.repository,
        run_id: record.runId,
        environment: storable(record.environment),
        installation_id: record.installationId,
        request: JSON.stringify(record.request),
        verdict_state: record.verdict?.state ?? null,
        verdict_comment: storable(record.verdict?.comment),
        requested_at: now,
        next_report_at: now,
      })
      .onConflict('id')
      .ignore()
      .returning('id');
    const stored = await this.get(record.id);
    if (!stored) throw new Error(`deployment gate ${record.id} vanished`);
    return { record: stored, created: inserted.length === 1 };
  }

  async get(id: string) {
    const row = await this.knex<GateRow>(GATES).where({ id }).first();
    return row && recordOf(row);
  }

  async byApproval(approvalId: string) {
    const row = await this.knex<GateRow>(GATES)
      .where({ approval_id: approvalId })
      .first();
    return row && recordOf(row);
  }

  async linkApproval(id: string, approvalId: string) {
    await this.knex(GATES)
      .where({ id })
      .whereNull('approval_id')
      .update({ approval_id: approvalId });
  }

  async unreportedForRun(repository: string, runId: string) {
    const rows: GateRow[] = await this.knex(GATES)
      .where({ repository, run_id: runId })
      .whereNull('reported_at');
    return rows.map(recordOf);
  }

  async setVerdict(id: string, state: GateVerdict, comment: string) {
    await this.knex(GATES)
      .where({ id })
      .whereNull('reported_at')
      .update({ verdict_state: state, verdict_comment: storable(comment) });
  }

  async listUnopened(before: Date, limit: number) {
    const rows: GateRow[] = await this.knex(GATES)
      .whereNull('approval_id')
      .whereNull('verdict_state')
      .whereNull('reported_at')
      .where('requested_at', '<', before)
      .orderBy('requested_at')
      .limit(limit);
    return rows.map(recordOf);
  }

  async claimDue(limit: number, leaseMs: number): Promise<GateRecord[]> {
    const now = new Date();
    const due: GateRow[] = await this.knex(`${GATES} as g`)
      .leftJoin(`${APPROVALS} as a`, 'a.id', 'g.approval_id')
      .whereNull('g.reported_at')
      .where('g.next_report_at', '<=', now)
      .where(q =>
        q
          .whereNotNull('g.verdict_state')
          .orWhere(p =>
            p.whereNotNull('a.status').whereNot('a.status', 'pending'),
          ),
      )
      .orderBy('g.next_report_at')
      .limit(limit)
      .select('g.*');
    const claimed: GateRecord[] = [];
    for (const row of due) {
      // Conditional on the time it was due at: of several replicas, one moves it on and sends it.
      const updated = await this.knex(GATES)
        .where({ id: row.id, next_report_at: row.next_report_at })
        .whereNull('reported_at')
        .update({
          next_report_at: new Date(now.getTime() + leaseMs),
          report_attempts: row.report_attempts + 1,
        });
      if (updated === 1)
        claimed.push(
          recordOf({ ...row, report_attempts: row.report_attempts + 1 }),
        );
    }
    return claimed;
  }

  async markReported(id: string, state: string, error?: string) {
    await this.knex(GATES)
      .where({ id })
      .whereNull('reported_at')
      .update({
        reported_at: new Date(),
        reported_state: state,
        last_error: storable(error ?? null),
      });
  }

  async retryLater(id: string, error: string, delayMs: number) {
    await this.knex(GATES)
      .where({ id })
      .whereNull('reported_at')
      .update({
        next_report_at: new Date(Date.now() + delayMs),
        last_error: storable(error),
      });
  }

  async takeStatusReport(id: string, limit: number) {
    const updated = await this.knex(GATES)
      .where({ id })
      .where('status_reports', '<', limit)
      .increment('status_reports', 1);
    return updated === 1;
  }

  async recordDelivery(delivery: GithubDelivery & { id: string }) {
    await this.knex(DELIVERIES)
      .insert({
        delivery_id: delivery.id,
        event: delivery.event ?? '',
        action: delivery.action,
        received_at: new Date(delivery.receivedAt),
        outcome: delivery.outcome,
        message: storable(delivery.message),
      })
      .onConflict('delivery_id')
      .ignore();
  }

  async hasDelivery(id: string) {
    return Boolean(
      await this.knex(DELIVERIES).where({ delivery_id: id }).first('event'),
    );
  }

  async pruneDeliveries(before: Date) {
    return this.knex(DELIVERIES).where('received_at', '<', before).delete();
  }

  async deliveries(limit: number): Promise<GithubDelivery[]> {
    const rows = await this.knex(DELIVERIES)
      .orderBy('received_at', 'desc')
      .limit(limit);
    return rows.map(row => ({
      id: row.delivery_id,
      event: row.event,
      action: row.action,
      receivedAt: iso(row.received_at),
      outcome: row.outcome,
      message: row.message,
    }));
  }
}
