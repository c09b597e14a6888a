// @ts-check

/**
 * Cards a restart must not lose: the status each card last showed, so a pass posts the cards not
 * posted yet (the chat is set when the approval is opened) and updates those that show an old
 * status. Approvals opened before this migration with a card count as shown as they are.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.alterTable('im_approval_approvals', table => {
    table
      .string('card_status', 16)
      .nullable()
      .comment('The status its card last showed; null: not posted yet');
  });
  await knex('im_approval_approvals')
    .whereNotNull('card_id')
    .update({ card_status: knex.ref('status') });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.alterTable('im_approval_approvals', table => {
    table.dropColumn('card_status');
  });
};
