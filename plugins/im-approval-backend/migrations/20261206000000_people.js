// @ts-check

/**
 * People from the catalog: who asked (`requester`, its catalog user in `requester_ref` for "approvals
 * I requested") and the catalog users asked (`approver_refs`, a JSON array for "waiting on me").
 * Approvals opened before this migration have no requester and no refs.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.alterTable('im_approval_approvals', table => {
    table
      .text('requester')
      .nullable()
      .comment('Who asked, and how they were identified (JSON)');
    table
      .string('requester_ref', 255)
      .nullable()
      .comment('The catalog User who asked, when one matched');
    table
      .text('approver_refs')
      .notNullable()
      .defaultTo('[]')
      .comment('The catalog Users asked (JSON array of entity refs)');
    table.index(['requester_ref'], 'im_approval_approvals_requester_ref_idx');
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.alterTable('im_approval_approvals', table => {
    table.dropIndex(
      ['requester_ref'],
      'im_approval_approvals_requester_ref_idx',
    );
    table.dropColumn('requester');
    table.dropColumn('requester_ref');
    table.dropColumn('approver_refs');
  });
};
