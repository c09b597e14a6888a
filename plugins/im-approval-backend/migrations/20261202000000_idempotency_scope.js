// @ts-check

/**
 * Idempotency keys belong to the caller that used them (a workflow can read other callers' keys
 * through GET /approvals), and remember the request they were used for, so a reuse with another
 * request is refused instead of answered with the old approval. Text that comes from an IM gets
 * unbounded columns: PostgreSQL refuses over-long varchar values, and an IM's ids or names are not ours to cut.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.alterTable('im_approval_approvals', table => {
    table
      .string('caller', 255)
      .nullable()
      .comment('Who opened it: the scope of its idempotency key');
    table
      .text('request')
      .nullable()
      .comment(
        'JSON: the create request as sent, to compare a reused key against',
      );
  });
  // Approvals from before this migration: the caller is in their context.
  for (let offset = 0; ; offset += 500) {
    const rows = await knex('im_approval_approvals')
      .select('id', 'context')
      .orderBy('id')
      .limit(500)
      .offset(offset);
    if (rows.length === 0) break;
    for (const row of rows) {
      const caller = String(JSON.parse(row.context).caller ?? '');
      await knex('im_approval_approvals')
        .where({ id: row.id })
        .update({ caller });
    }
  }
  await knex.schema.alterTable('im_approval_approvals', table => {
    table.dropUnique(['idempotency_key']);
    table.unique(['caller', 'idempotency_key'], {
      indexName: 'im_approval_approvals_caller_key_unique',
    });
  });
  // SQLite does not enforce varchar lengths; PostgreSQL does.
  if (knex.client.dialect === 'postgresql') {
    await knex.schema.alterTable('im_approval_approvals', table => {
      table.text('caller').notNullable().alter();
      table.text('im_instance_id').nullable().alter();
      table.text('decided_by').nullable().alter();
    });
    await knex.schema.alterTable('im_approval_timeline', table => {
      table.text('actor').nullable().alter();
    });
  }
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  if (knex.client.dialect === 'postgresql') {
    await knex.schema.alterTable('im_approval_timeline', table => {
      table.string('actor', 255).nullable().alter();
    });
    await knex.schema.alterTable('im_approval_approvals', table => {
      table.string('im_instance_id', 255).nullable().alter();
      table.string('decided_by', 255).nullable().alter();
    });
  }
  await knex.schema.alterTable('im_approval_approvals', table => {
    table.dropUnique(
      ['caller', 'idempotency_key'],
      'im_approval_approvals_caller_key_unique',
    );
    table.unique(['idempotency_key']);
  });
  await knex.schema.alterTable('im_approval_approvals', table => {
    table.dropColumn('request');
    table.dropColumn('caller');
  });
};
