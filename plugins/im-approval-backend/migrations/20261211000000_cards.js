// @ts-check

/**
 * Cards in group chats: the chat an approval's card was posted to and the IM's id of the card
 * (Feishu message_id), so it is updated in place when the approval changes, and posted once.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.alterTable('im_approval_approvals', table => {
    table.text('card_chat').nullable().comment('The group chat of its card');
    table.text('card_id').nullable().comment("The IM's id of its card");
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.alterTable('im_approval_approvals', table => {
    table.dropColumn('card_chat');
    table.dropColumn('card_id');
  });
};
