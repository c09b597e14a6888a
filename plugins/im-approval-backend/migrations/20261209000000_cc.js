// @ts-check

/**
 * Who each approval tells but does not ask (`cc`, 抄送): a JSON array of the IM contacts the IM is
 * asked to tell, from the template's cc with catalog groups expanded when the request was opened.
 * Approvals opened before this migration told nobody.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.alterTable('im_approval_approvals', table => {
    table
      .text('cc')
      .notNullable()
      .defaultTo('[]')
      .comment('The people told who cannot decide (JSON array of IM contacts)');
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.alterTable('im_approval_approvals', table => {
    table.dropColumn('cc');
  });
};
