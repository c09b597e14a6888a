// @ts-check

/**
 * A decider is a name and an id: `decided_by` holds the display name people read, `decided_by_id`
 * the IM's user id (or the Backstage user or caller) beside it, the same two for every IM. Approvals
 * decided before this migration keep what `decided_by` then held and have no id.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.alterTable('im_approval_approvals', table => {
    table
      .text('decided_by_id')
      .nullable()
      .comment(
        'The decider’s IM user id, or the Backstage user or caller that decided',
      );
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.alterTable('im_approval_approvals', table => {
    table.dropColumn('decided_by_id');
  });
};
