import { isDatabaseConflictError } from '@backstage/backend-plugin-api';
import {
  APPROVAL_FACETS,
  type Approval,
  type ApprovalFacets,
  type ApprovalStage,
  type ApprovalStatus,
  type FormValue,
  type ListApprovalsQuery,
  type TimelineEvent,
} from '@im-approval/plugin-im-approval-common';
import type { Knex } from 'knex';
import type {
  ApprovalStore,
  Decision,
  IdempotentApproval,
  NewApproval,
  NewTimelineEvent,
} from './ApprovalStore';
import { iso, type Timestamp } from './rows';
import { changeLineOf } from './changeLine';
import { isPostgres } from './migratedClient';
import { StatementBatch } from './StatementBatch';
import { storable } from './storableText';

const APPROVALS = 'im_approval_approvals';
const TIMELINE = 'im_approval_timeline';
const STAGE_INSTANCES = 'im_approval_stage_instances';

interface ApprovalRow {
  id: string;
  caller: string | null;
  idempotency_key: string;
  request: string | null;
  template: string;
  integration_id: string;
  provider: string;
  title: string;
  status: ApprovalStatus;
  context: string;
  variables: string;
  form: string;
  approvers: string;
  approver_refs: string;
  stages: string;
  cc: string;
  requester: string | null;
  requester_ref: string | null;
  change_line: string | null;
  im_instance_id: string | null;
  im_url: string | null;
  decided_by: string | null;
  decided_by_id: string | null;
  comment: string | null;
  decided_at: Timestamp | null;
  error: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  expires_at: Timestamp;
  remind_at: Timestamp | null;
  remind_every: number | null;
  reminders_sent: number;
  escalate_at: Timestamp | null;
  escalate_to: string;
  card_chat: string | null;
  card_id: string | null;
  card_status: ApprovalStatus | null;
}

interface TimelineRow {
  approval_id: string;
  type: TimelineEvent['type'];
  source: TimelineEvent['source'];
  actor: string | null;
  message: string | null;
  at: Timestamp;
}

function timelineRow(
  approvalId: string,
  event: NewTimelineEvent,
  at: Date,
): TimelineRow {
  return {
    approval_id: approvalId,
    type: event.type,
    source: event.source,
    actor: storable(event.actor),
    message: storable(event.message),
    at,
  };
}

/** A pattern for `column like ?` with `\` as escape character: finds `text` anywhere, literally. */
function likeLiteral(text: string): string {
  return `%${text.replace(/[\\%_]/g, char => `\\${char}`)}%`;
}

/** The same for `lower(column) like ?`. */
function containing(text: string): string {
  return likeLiteral(text.toLowerCase());
}

function toIdempotent(row: ApprovalRow): IdempotentApproval {
  return {
    approval: toApproval(row),
    request: row.request === null ? null : JSON.parse(row.request),
  };
}

function toApproval(row: ApprovalRow): Approval {
  return {
    id: row.id,
    status: row.status,
    template: row.template,
    integration: row.integration_id,
    provider: row.provider,
    title: row.title,
    idempotencyKey: row.idempotency_key,
    context: JSON.parse(row.context),
    variables: JSON.parse(row.variables),
    form: JSON.parse(row.form),
    approvers: JSON.parse(row.approvers),
    approverRefs: JSON.parse(row.approver_refs),
    stages: JSON.parse(row.stages),
    requester: row.requester === null ? null : JSON.parse(row.requester),
    cc: JSON.parse(row.cc),
    nextReminderAt: row.remind_at === null ? null : iso(row.remind_at),
    escalateTo: JSON.parse(row.escalate_to),
    escalatesAt: row.escalate_at === null ? null : iso(row.escalate_at),
    imInstanceId: row.im_instance_id,
    imUrl: row.im_url,
    decidedBy: row.decided_by,
    decidedById: row.decided_by_id,
    comment: row.comment,
    decidedAt: row.decided_at === null ? null : iso(row.decided_at),
    error: row.error,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
    expiresAt: iso(row.expires_at),
  };
}

/** Rows read by one statement at most; SQLite binds up to 32,766 variables, PostgreSQL 65,535. */
const READ_BATCH = 200;

/** Approvals written by one statement at most: each binds about 25 values. */
const WRITE_BATCH = 100;

interface InstanceKey {
  integration: string;
  instanceId: string;
}

interface IdempotencyKey {
  caller: string;
  key: string;
}

/** A caller's key as one map key; JSON keeps any two (caller, key) pairs apart, whatever they hold. */
const scopedKey = (caller: string, key: string) =>
  JSON.stringify([caller, key]);

interface PendingAttach {
  id: string;
  instanceId: string;
  url: string | null;
  /** The form as JSON, or null to keep the stored one. */
  form: string | null;
  timeline: TimelineRow;
}

export class DatabaseApprovalStore implements ApprovalStore {
  /** Waiters woken together, and events read together, cost one read between them. */
  private readonly reads = new StatementBatch<string, ApprovalRow | undefined>(
    async ids => {
      const rows = await this.knex<ApprovalRow>(APPROVALS).whereIn('id', [
        ...new Set(ids),
      ]);
      const byId = new Map(rows.map(row => [row.id, row]));
      return ids.map(id => byId.get(id));
    },
    READ_BATCH,
  );
  private readonly instanceReads = new StatementBatch<
    InstanceKey,
    ApprovalRow | undefined
  >(async keys => {
    const found = new Map<string, ApprovalRow>();
    const key = (integration: string, instanceId: string | null) =>
      `${integration}\u0001${instanceId}`;
    const integrations = new Set(keys.map(k => k.integration));
    for (const integration of integrations) {
      const rows = await this.knex<ApprovalRow>(APPROVALS)
        .where({ integration_id: integration })
        .whereIn('im_instance_id', [
          ...new Set(
            keys
              .filter(k => k.integration === integration)
              .map(k => k.instanceId),
          ),
        ]);
      for (const row of rows) {
        const rowKey = key(row.integration_id, row.im_instance_id);
        if (!found.has(rowKey)) found.set(rowKey, row);
      }
    }
    return keys.map(k => found.get(key(k.integration, k.instanceId)));
  }, READ_BATCH);

  /** Creations arriving together look for their keys in one read. */
  private readonly keyReads = new StatementBatch<
    IdempotencyKey,
    ApprovalRow | undefined
  >(async keys => {
    const rows = await this.knex<ApprovalRow>(APPROVALS).where(builder => {
      for (const { caller, key } of keys)
        builder.orWhere({ caller, idempotency_key: key });
    });
    const found = new Map(
      rows.map(row => [scopedKey(row.caller ?? '', row.idempotency_key), row]),
    );
    return keys.map(k => found.get(scopedKey(k.caller, k.key)));
  }, READ_BATCH);
  /**
   * PostgreSQL: approvals stored together, and instances attached together, cost one statement
   * (and one commit) between them; a conflict fails the batch, and then each is tried alone.
   */
  private readonly pgInserts = new StatementBatch<
    { row: Partial<ApprovalRow>; timeline: TimelineRow },
    ApprovalRow | undefined
  >(
    inputs =>
      this.withTimeline(
        this.knex<ApprovalRow>(APPROVALS)
          .insert(inputs.map(input => input.row))
          .returning('*'),
        inputs.map(input => input.timeline),
      ),
    WRITE_BATCH,
  );
  private readonly pgAttaches = new StatementBatch<
    PendingAttach,
    ApprovalRow | undefined
  >(inputs => this.attachAll(inputs), WRITE_BATCH);

  constructor(private readonly knex: Knex) {}

  async insert(approval: NewApproval, event: NewTimelineEvent) {
    const now = new Date();
    const row: Partial<ApprovalRow> = {
      id: approval.id,
      caller: approval.caller,
      idempotency_key: approval.idempotencyKey,
      request: JSON.stringify(approval.request),
      template: approval.template,
      integration_id: approval.integration,
      provider: approval.provider,
      title: approval.title,
      status: 'pending',
      context: JSON.stringify(approval.context),
      variables: JSON.stringify(approval.variables),
      form: JSON.stringify(approval.form),
      approvers: JSON.stringify(approval.approvers),
      approver_refs: JSON.stringify(approval.approverRefs),
      stages: JSON.stringify(approval.stages),
      requester: JSON.stringify(approval.requester),
      requester_ref: approval.requester.entityRef ?? null,
      cc: JSON.stringify(approval.cc),
      change_line: changeLineOf(approval.template, approval.context),
      created_at: now,
      updated_at: now,
      expires_at: approval.expiresAt,
      // Timed from the creation itself, so every timer is exactly its interval after createdAt.
      remind_at: approval.reminders
        ? new Date(now.getTime() + approval.reminders.everySeconds * 1000)
        : null,
      remind_every: approval.reminders?.everySeconds ?? null,
      escalate_at: approval.escalation
        ? new Date(now.getTime() + approval.escalation.afterSeconds * 1000)
        : null,
      escalate_to: JSON.stringify(approval.escalation?.to ?? []),
      card_chat: approval.cardChat ?? null,
    };
    let inserted: ApprovalRow | undefined;
    try {
      if (isPostgres(this.knex)) {
        inserted = await this.pgInserts.add({
          row,
          timeline: timelineRow(approval.id, event, now),
        });
      } else {
        await this.knex.transaction(async tx => {
          await tx<ApprovalRow>(APPROVALS).insert(row);
          await this.insertEvent(tx, approval.id, event, now);
        });
      }
    } catch (error) {
      if (!isDatabaseConflictError(error)) throw error;
      const existing = await this.getByIdempotencyKey(
        approval.caller,
        approval.idempotencyKey,
      );
      if (!existing) throw error;
      return { ...existing, created: false };
    }
    return {
      approval: inserted
        ? toApproval(inserted)
        : (await this.get(approval.id))!,
      request: approval.request,
      created: true,
    };
  }

  async get(id: string) {
    const row = await this.reads.add(id);
    return row && toApproval(row);
  }

  async getByIdempotencyKey(caller: string, key: string) {
    const row = await this.keyReads.add({ caller, key });
    return row && toIdempotent(row);
  }

  async findByInstance(integration: string, instanceId: string) {
    const row = await this.instanceReads.add({
      integration,
      instanceId: storable(instanceId),
    });
    if (row) return toApproval(row);
    // One of the requests of a stage that counts its approvals.
    const linked = await this.knex<ApprovalRow>(APPROVALS)
      .join(
        STAGE_INSTANCES,
        `${STAGE_INSTANCES}.approval_id`,
        `${APPROVALS}.id`,
      )
      .where({
        [`${STAGE_INSTANCES}.integration_id`]: integration,
        [`${STAGE_INSTANCES}.instance_id`]: instanceId,
      })
      .first(`${APPROVALS}.*`);
    return linked && toApproval(linked);
  }

  async linkInstance(
    approvalId: string,
    integration: string,
    instanceId: string,
  ) {
    await this.knex(STAGE_INSTANCES)
      .insert({
        integration_id: integration,
        instance_id: instanceId,
        approval_id: approvalId,
      })
      .onConflict(['integration_id', 'instance_id'])
      .ignore();
  }

  async list(query: ListApprovalsQuery, me?: string) {
    const filtered = this.knex<ApprovalRow>(APPROVALS).where(builder => {
      if (query.status) builder.where('status', query.status);
      if (query.mine === 'requested') builder.where('requester_ref', me ?? '');
      if (query.mine === 'waiting') {
        // Refs are quoted in the JSON array, so "user:default/al" never matches "user:default/alice".
        builder
          .where('status', 'pending')
          .whereRaw(`approver_refs like ? escape '\\'`, [
            likeLiteral(JSON.stringify(me ?? '')),
          ]);
      }
      if (query.template) builder.where('template', query.template);
      // The repository lives in the context JSON; a LIKE on its serialised form keeps one schema for both
      // databases. Literal, so a workflow of "acme/a_b" never lists "acme/aXb"; GitHub names ignore case.
      if (query.repository) {
        builder.whereRaw(`lower(context) like ? escape '\\'`, [
          containing(`"repository":${JSON.stringify(query.repository)}`),
        ]);
      }
      if (query.q) {
        const pattern = containing(query.q);
        builder.where(search => {
          for (const column of [
            'title',
            'context',
            'id',
            'decided_by',
            'decided_by_id',
            'comment',
          ]) {
            search.orWhereRaw(`lower(cast(?? as text)) like ? escape '\\'`, [
              column,
              pattern,
            ]);
          }
        });
      }
    });
    const [rows, [{ count }]] = await Promise.all([
      filtered
        .clone()
        .orderBy('created_at', 'desc')
        .orderBy('id')
        .limit(query.limit)
        .offset(query.offset),
      filtered.clone().count({ count: '*' }),
    ]);
    return { items: rows.map(toApproval), totalCount: Number(count) };
  }

  async facets(q?: string): Promise<ApprovalFacets> {
    // The repository as the JSON string literal it is stored as: PostgreSQL's JSON operators refuse
    // a \u0000 escape, which a self-reported repository may hold, so it is cut out as text there.
    const repository = isPostgres(this.knex)
      ? this.knex.raw(`substring(context from ?)`, [
          '"repository":("(?:[^"\\\\]|\\\\.)*")',
        ])
      : this.knex.raw(`json_quote(json_extract(context, '$.repository'))`);
    const recent = this.knex<ApprovalRow>(APPROVALS)
      .select({ template: 'template', repository })
      .orderBy('created_at', 'desc')
      .limit(APPROVAL_FACETS.scanned)
      .as('recent');
    const distinct = async (
      column: 'template' | 'repository',
      pattern?: string,
    ) => {
      const query = this.knex
        .from(recent)
        .distinct(column)
        .whereNotNull(column)
        .orderBy(column)
        .limit(APPROVAL_FACETS.limit);
      if (pattern)
        query.whereRaw(`lower(??) like ? escape '\\'`, [column, pattern]);
      const rows: Record<typeof column, string>[] = await query;
      return rows.map(row => row[column]);
    };
    const [templates, repositories] = await Promise.all([
      distinct('template', q && containing(q)),
      // Matched as stored: the words' JSON escapes against the literal's.
      distinct('repository', q && containing(JSON.stringify(q).slice(1, -1))),
    ]);
    return {
      templates,
      // Only what the list can filter by: text (SQLite quotes a missing key as `null`) without a NUL,
      // which no query may carry; sorted as text rather than as JSON.
      repositories: repositories
        .map(literal => JSON.parse(literal) as unknown)
        .filter(
          (value): value is string =>
            typeof value === 'string' && !value.includes('\u0000'),
        )
        .sort(),
    };
  }

  async timeline(id: string): Promise<TimelineEvent[]> {
    const rows = await this.knex<TimelineRow>(TIMELINE)
      .where({ approval_id: id })
      .orderBy('id');
    return rows.map(row => ({
      type: row.type,
      source: row.source,
      actor: row.actor,
      message: row.message,
      at: iso(row.at),
    }));
  }

  async attachInstance(
    id: string,
    instance: { instanceId: string; url?: string; form?: FormValue[] },
    event: NewTimelineEvent,
  ) {
    if (isPostgres(this.knex)) {
      const row = await this.pgAttaches.add({
        id,
        instanceId: storable(instance.instanceId),
        url: storable(instance.url),
        form: instance.form ? JSON.stringify(instance.form) : null,
        timeline: timelineRow(id, event, new Date()),
      });
      return row && toApproval(row);
    }
    return this.conditionalUpdate(
      id,
      query => query.where({ status: 'pending' }).whereNull('im_instance_id'),
      {
        im_instance_id: storable(instance.instanceId),
        im_url: storable(instance.url),
        error: null,
        // In the same update, so the labels are there exactly when the instance is.
        ...(instance.form ? { form: JSON.stringify(instance.form) } : {}),
      },
      event,
    );
  }

  async transition(id: string, decision: Decision, event: NewTimelineEvent) {
    return this.conditionalUpdate(
      id,
      query => query.where({ status: 'pending' }),
      {
        status: decision.status,
        decided_by: storable(decision.decidedBy?.name),
        decided_by_id: storable(decision.decidedBy?.id),
        comment: storable(decision.comment),
        decided_at: decision.decidedAt ?? new Date(),
        ...(decision.stages ? { stages: JSON.stringify(decision.stages) } : {}),
        // An approval that ends without a decision keeps the IM error that explains why.
        ...(decision.error !== undefined
          ? { error: storable(decision.error) }
          : {}),
      },
      event,
    );
  }

  async updateStages(
    id: string,
    stages: ApprovalStage[],
    events: NewTimelineEvent[],
    expected?: ApprovalStage[],
  ) {
    return this.conditionalUpdate(
      id,
      query =>
        expected
          ? query.where({ status: 'pending', stages: JSON.stringify(expected) })
          : query.where({ status: 'pending' }),
      { stages: JSON.stringify(stages) },
      events,
    );
  }

  async appendEvent(id: string, event: NewTimelineEvent) {
    await this.insertEvent(this.knex, id, event, new Date());
  }

  async recordImError(
    id: string,
    event: NewTimelineEvent & { message: string },
  ) {
    const now = new Date();
    await this.knex.transaction(async tx => {
      await tx<ApprovalRow>(APPROVALS)
        .where({ id, status: 'pending' })
        .update({ error: storable(event.message), updated_at: now });
      await this.insertEvent(tx, id, event, now);
    });
  }

  async listPending(options: { limit: number; createdBefore?: Date }) {
    const rows = await this.knex<ApprovalRow>(APPROVALS)
      .where({ status: 'pending' })
      .modify(query => {
        if (options.createdBefore)
          query.where('created_at', '<', options.createdBefore);
      })
      .orderBy('updated_at')
      .limit(options.limit);
    return rows.map(toApproval);
  }

  async lastApproved(approval: Approval) {
    const line = changeLineOf(approval.template, approval.context);
    if (!line) return undefined;
    const row = await this.knex<ApprovalRow>(APPROVALS)
      .where({ change_line: line, status: 'approved' })
      .whereNot({ id: approval.id })
      .whereNotNull('decided_at')
      .orderBy('decided_at', 'desc')
      .first();
    return row && toApproval(row);
  }

  async listExpired(now: Date, limit: number) {
    const rows = await this.knex<ApprovalRow>(APPROVALS)
      .where({ status: 'pending' })
      .where('expires_at', '<=', now)
      .orderBy('expires_at')
      .limit(limit);
    return rows.map(toApproval);
  }

  async listRemindersDue(now: Date, limit: number) {
    const rows = await this.knex<ApprovalRow>(APPROVALS)
      .where({ status: 'pending' })
      .where('remind_at', '<=', now)
      .orderBy('remind_at')
      .limit(limit);
    return rows.map(toApproval);
  }

  async takeReminder(id: string, now: Date) {
    const row = await this.knex<ApprovalRow>(APPROVALS)
      .select('remind_every', 'reminders_sent', 'expires_at')
      .where({ id })
      .first();
    if (!row?.remind_every) return undefined;
    const next = new Date(now.getTime() + row.remind_every * 1000);
    const taken = await this.knex<ApprovalRow>(APPROVALS)
      .where({ id, status: 'pending', reminders_sent: row.reminders_sent })
      .where('remind_at', '<=', now)
      .update({
        remind_at: next < new Date(iso(row.expires_at)) ? next : null,
        reminders_sent: row.reminders_sent + 1,
      });
    return taken === 1 ? row.reminders_sent + 1 : undefined;
  }

  async listEscalationsDue(now: Date, limit: number) {
    const rows = await this.knex<ApprovalRow>(APPROVALS)
      .where({ status: 'pending' })
      .where('escalate_at', '<=', now)
      .orderBy('escalate_at')
      .limit(limit);
    return rows.map(toApproval);
  }

  async takeEscalation(id: string, now: Date, leaseSeconds: number) {
    // A second replica's update waits for the first's row lock, then finds the time moved on.
    const taken = await this.knex<ApprovalRow>(APPROVALS)
      .where({ id, status: 'pending' })
      .where('escalate_at', '<=', now)
      .update({ escalate_at: new Date(now.getTime() + leaseSeconds * 1000) });
    return taken === 1;
  }

  async settleEscalation(id: string, added: string[], event: NewTimelineEvent) {
    const now = new Date();
    await this.knex.transaction(async tx => {
      const row = await tx<ApprovalRow>(APPROVALS)
        .select('approvers')
        .where({ id })
        .first();
      if (!row) return;
      const approvers = [...new Set([...JSON.parse(row.approvers), ...added])];
      await tx<ApprovalRow>(APPROVALS)
        .where({ id })
        .update({
          escalate_at: null,
          approvers: JSON.stringify(approvers),
          updated_at: now,
        });
      await this.insertEvent(tx, id, event, now);
    });
  }

  async attachCard(id: string, cardId: string, status: ApprovalStatus) {
    const attached = await this.knex<ApprovalRow>(APPROVALS)
      .where({ id })
      .whereNotNull('card_chat')
      .whereNull('card_id')
      .update({ card_id: cardId, card_status: status });
    return attached === 1;
  }

  async cardShows(id: string, status: ApprovalStatus) {
    await this.knex<ApprovalRow>(APPROVALS)
      .where({ id })
      .whereNotNull('card_id')
      .update({ card_status: status });
  }

  async cardOf(id: string) {
    const row = await this.knex<ApprovalRow>(APPROVALS)
      .select('card_chat', 'card_id')
      .where({ id })
      .first();
    if (!row?.card_chat) return undefined;
    return {
      chatId: row.card_chat,
      ...(row.card_id && { cardId: row.card_id }),
    };
  }

  async listCardsBehind(limit: number) {
    const rows = await this.knex<ApprovalRow>(APPROVALS)
      .whereNotNull('card_chat')
      .whereNotNull('im_instance_id')
      .where(query =>
        query
          .where(unposted =>
            unposted.whereNull('card_id').where({ status: 'pending' }),
          )
          .orWhere(stale =>
            stale
              .whereNotNull('card_id')
              .where(shows =>
                shows
                  .whereNull('card_status')
                  .orWhereRaw('card_status <> status'),
              ),
          ),
      )
      .orderBy('updated_at')
      .limit(limit);
    return rows.map(toApproval);
  }

  async versions(ids: string[]) {
    const versions = [];
    for (let start = 0; start < ids.length; start += READ_BATCH) {
      const rows = await this.knex<ApprovalRow>(APPROVALS)
        .select('id', 'status', 'updated_at')
        .whereIn('id', ids.slice(start, start + READ_BATCH));
      for (const row of rows)
        versions.push({
          id: row.id,
          status: row.status,
          updatedAt: iso(row.updated_at),
        });
    }
    return versions;
  }

  async touch(ids: string[]) {
    if (ids.length === 0) return;
    await this.knex<ApprovalRow>(APPROVALS)
      .whereIn('id', ids)
      .where({ status: 'pending' })
      .update({ updated_at: new Date() });
  }

  private async conditionalUpdate(
    id: string,
    condition: (
      query: Knex.QueryBuilder<ApprovalRow>,
    ) => Knex.QueryBuilder<ApprovalRow>,
    changes: Partial<ApprovalRow>,
    event: NewTimelineEvent | NewTimelineEvent[],
  ): Promise<Approval | undefined> {
    const now = new Date();
    const events = [event].flat();
    if (isPostgres(this.knex)) {
      const write = condition(this.knex<ApprovalRow>(APPROVALS).where({ id }))
        .update({ ...changes, updated_at: now })
        .returning('*');
      if (events.length === 0) {
        const [row]: ApprovalRow[] = await write;
        return row && toApproval(row);
      }
      const [row] = await this.withTimeline(
        write,
        events.map(e => timelineRow(id, e, now)),
      );
      return row && toApproval(row);
    }
    return this.knex.transaction(async tx => {
      const rows: ApprovalRow[] = await condition(
        tx<ApprovalRow>(APPROVALS).where({ id }),
      )
        .update({ ...changes, updated_at: now })
        .returning('*');
      if (rows.length === 0) return undefined;
      for (const e of events) await this.insertEvent(tx, id, e, now);
      return toApproval(rows[0]);
    });
  }

  /**
   * PostgreSQL: a write of approvals (returning them) and their timeline rows as one statement, so
   * one round trip and one commit where a transaction takes four. Each timeline row is made from
   * what the write returned, so only for the approvals it wrote. Answers each row in order.
   */
  private async withTimeline(
    write: Knex.QueryBuilder | Knex.Raw,
    timeline: TimelineRow[],
  ): Promise<Array<ApprovalRow | undefined>> {
    const { sql, bindings } = write.toSQL();
    const events = timeline
      .map(() => '(cast(? as uuid), ?, ?, ?, ?, cast(? as timestamptz))')
      .join(', ');
    const { rows } = (await this.knex.raw(
      `with written as (${sql}), recorded as (` +
        `insert into ${TIMELINE} (approval_id, type, source, actor, message, at) ` +
        'select written.id, e.type, e.source, e.actor, e.message, e.at from written ' +
        `join (values ${events}) as e (approval_id, type, source, actor, message, at) ` +
        'on e.approval_id = written.id) select * from written',
      [
        ...bindings,
        ...timeline.flatMap(row => [
          row.approval_id,
          row.type,
          row.source,
          row.actor,
          row.message,
          row.at,
        ]),
      ],
    )) as { rows: ApprovalRow[] };
    const byId = new Map(rows.map(row => [row.id, row]));
    return timeline.map(row => byId.get(row.approval_id));
  }

  /**
   * PostgreSQL: instances attached to pending approvals that have none, several in one update.
   * Attaches to the same approval go in successive statements, so only the first can win it.
   */
  private async attachAll(
    attaches: PendingAttach[],
  ): Promise<Array<ApprovalRow | undefined>> {
    const first = new Map<string, number>();
    attaches.forEach((attach, i) => {
      if (!first.has(attach.id)) first.set(attach.id, i);
    });
    const now = attaches.filter((_, i) => first.get(attaches[i].id) === i);
    const later = attaches.filter((_, i) => first.get(attaches[i].id) !== i);
    const values = now
      .map(
        () =>
          '(cast(? as uuid), cast(? as text), cast(? as text), cast(? as text), cast(? as timestamptz))',
      )
      .join(', ');
    const written = await this.withTimeline(
      this.knex.raw(
        `update ${APPROVALS} as a set im_instance_id = v.instance_id, im_url = v.url, ` +
          'error = null, form = coalesce(v.form, a.form), updated_at = v.at ' +
          `from (values ${values}) as v (id, instance_id, url, form, at) ` +
          "where a.id = v.id and a.status = 'pending' and a.im_instance_id is null " +
          'returning a.*',
        now.flatMap(attach => [
          attach.id,
          attach.instanceId,
          attach.url,
          attach.form,
          attach.timeline.at,
        ]),
      ),
      now.map(attach => attach.timeline),
    );
    const answers = new Map(now.map((attach, i) => [attach, written[i]]));
    if (later.length > 0) {
      const rest = await this.attachAll(later);
      later.forEach((attach, i) => answers.set(attach, rest[i]));
    }
    return attaches.map(attach => answers.get(attach));
  }

  private async insertEvent(
    db: Knex,
    approvalId: string,
    event: NewTimelineEvent,
    at: Date,
  ) {
    await db(TIMELINE).insert(timelineRow(approvalId, event, at));
  }
}
