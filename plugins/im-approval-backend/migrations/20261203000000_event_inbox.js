// @ts-check

/**
 * IM events are written here, verified, before the IM gets its answer, and processed afterwards by
 * whichever replica gets to them: the IMs' answer deadlines are never spent on calls back to the IM,
 * and an event acknowledged just before a crash is still applied after it. Processed rows are the
 * deduplication the callback receipts were; the receipts go.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.createTable('im_approval_event_inbox', table => {
    table.comment(
      'Verified IM events: recorded before the IM is answered, processed after',
    );
    table.string('integration_id', 255).notNullable();
    table
      .string('event_id', 255)
      .notNullable()
      .comment('The IM event id, or its SHA-256 when longer than the column');
    table.text('instance_id').notNullable();
    table.string('source', 32).notNullable().comment('callback or connection');
    table.timestamp('received_at', { useTz: true }).notNullable();
    table
      .timestamp('next_attempt_at', { useTz: true })
      .notNullable()
      .comment('When a worker may (re)try it; a claim moves it on');
    table.integer('attempts').notNullable().defaultTo(0);
    table.text('last_error').nullable();
    table.timestamp('processed_at', { useTz: true }).nullable();
    table.primary(['integration_id', 'event_id']);
    table.index(
      ['processed_at', 'next_attempt_at'],
      'im_approval_event_inbox_due_idx',
    );
  });
  await knex.schema.dropTable('im_approval_callback_receipts');
  // The reconciler reads the least recently checked pending approvals first.
  await knex.schema.alterTable('im_approval_approvals', table => {
    table.index(
      ['status', 'updated_at'],
      'im_approval_approvals_status_updated_idx',
    );
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.alterTable('im_approval_approvals', table => {
    table.dropIndex(
      ['status', 'updated_at'],
      'im_approval_approvals_status_updated_idx',
    );
  });
  await knex.schema.createTable('im_approval_callback_receipts', table => {
    table.string('integration_id', 255).notNullable();
    table.string('event_id', 255).notNullable();
    table.timestamp('received_at', { useTz: true }).notNullable();
    table.primary(['integration_id', 'event_id']);
    table.index(['received_at'], 'im_approval_callback_receipts_received_idx');
  });
  await knex.schema.dropTable('im_approval_event_inbox');
};
