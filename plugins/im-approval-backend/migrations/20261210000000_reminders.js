// @ts-check

/**
 * Reminders and escalation, timed by the server: when each pending approval's approvers are next
 * reminded and how often, and when and to whom it is escalated. A replica takes a due one by
 * moving its time on in a conditional update, so each fires once however many replicas look.
 * Approvals opened before this migration are neither reminded nor escalated.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.alterTable('im_approval_approvals', table => {
    table
      .timestamp('remind_at', { useTz: true })
      .nullable()
      .comment('When its pending approvers are next reminded; null: never');
    table
      .integer('remind_every')
      .nullable()
      .comment("Seconds between reminders (the template's remindAfter)");
    table
      .integer('reminders_sent')
      .notNullable()
      .defaultTo(0)
      .comment('How many reminders went out');
    table
      .timestamp('escalate_at', { useTz: true })
      .nullable()
      .comment('When it is escalated; null: not to be, or done');
    table
      .text('escalate_to')
      .notNullable()
      .defaultTo('[]')
      .comment('Who it is escalated to (JSON array of IM contacts)');
    table.index(['status', 'remind_at'], 'im_approval_approvals_remind_idx');
    table.index(
      ['status', 'escalate_at'],
      'im_approval_approvals_escalate_idx',
    );
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.alterTable('im_approval_approvals', table => {
    table.dropIndex(
      ['status', 'remind_at'],
      'im_approval_approvals_remind_idx',
    );
    table.dropIndex(
      ['status', 'escalate_at'],
      'im_approval_approvals_escalate_idx',
    );
    table.dropColumn('remind_at');
    table.dropColumn('remind_every');
    table.dropColumn('reminders_sent');
    table.dropColumn('escalate_at');
    table.dropColumn('escalate_to');
  });
};
