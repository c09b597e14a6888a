// @ts-check

/** @param {import('knex').Knex} knex */
exports.up = async function up(knex) {
  await knex.schema.createTable('im_approval_approvals', table => {
    table.comment('Approvals requested by workflows and decided in an IM');
    table.uuid('id').primary();
    table.string('idempotency_key', 255).notNullable().unique();
    table.string('template', 255).notNullable();
    table.string('integration_id', 255).notNullable();
    table.string('provider', 64).notNullable();
    table.text('title').notNullable();
    table.string('status', 32).notNullable();
    table
      .text('context')
      .notNullable()
      .comment('JSON: the run context and whether it was verified');
    table
      .text('variables')
      .notNullable()
      .comment('JSON: the variables the caller sent');
    table
      .text('form')
      .notNullable()
      .comment('JSON: the form values sent to the IM');
    table
      .text('approvers')
      .notNullable()
      .comment('JSON: approvers as configured or requested');
    table.string('im_instance_id', 255).nullable();
    table.text('im_url').nullable();
    table.string('decided_by', 255).nullable();
    table.text('comment').nullable();
    table.timestamp('decided_at', { useTz: true }).nullable();
    table.text('error').nullable();
    table.timestamp('created_at', { useTz: true }).notNullable();
    table.timestamp('updated_at', { useTz: true }).notNullable();
    table.timestamp('expires_at', { useTz: true }).notNullable();
    table.index(
      ['status', 'expires_at'],
      'im_approval_approvals_status_expires_idx',
    );
    table.index(
      ['integration_id', 'im_instance_id'],
      'im_approval_approvals_instance_idx',
    );
    table.index(['created_at'], 'im_approval_approvals_created_idx');
  });

  await knex.schema.createTable('im_approval_timeline', table => {
    table.comment('Every change of an approval: the audit trail');
    table.bigIncrements('id').primary();
    table
      .uuid('approval_id')
      .notNullable()
      .references('id')
      .inTable('im_approval_approvals')
      .onDelete('CASCADE');
    table.string('type', 64).notNullable();
    table.string('source', 32).notNullable();
    table.string('actor', 255).nullable();
    table.text('message').nullable();
    table.timestamp('at', { useTz: true }).notNullable();
    table.index(['approval_id'], 'im_approval_timeline_approval_idx');
  });

  await knex.schema.createTable('im_approval_callback_receipts', table => {
    table.comment(
      'IM event ids already applied, so redelivered callbacks are no-ops',
    );
    table.string('integration_id', 255).notNullable();
    table.string('event_id', 255).notNullable();
    table.timestamp('received_at', { useTz: true }).notNullable();
    table.primary(['integration_id', 'event_id']);
    table.index(['received_at'], 'im_approval_callback_receipts_received_idx');
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.dropTable('im_approval_callback_receipts');
  await knex.schema.dropTable('im_approval_timeline');
  await knex.schema.dropTable('im_approval_approvals');
};
