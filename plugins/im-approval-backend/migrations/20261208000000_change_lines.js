// @ts-check

const { createHash } = require('node:crypto');

/**
 * What changes since the last approval: each approval of a real run keeps `change_line`, a
 * SHA-256 of its template, repository and environment, so the latest approved one of the same line
 * (whose commit a compare link starts from) is one indexed read. Template tests have none: they
 * deploy nothing. Approvals opened before this migration get theirs from their stored context.
 *
 * The hash is computed as `changeLineOf` in src/database/changeLine.ts computes it.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.alterTable('im_approval_approvals', table => {
    table
      .string('change_line', 64)
      .nullable()
      .comment(
        'SHA-256 of template, repository and environment; null for template tests',
      );
    table.index(
      ['change_line', 'status', 'decided_at'],
      'im_approval_approvals_change_line_idx',
    );
  });
  /** @type {string | undefined} */
  let after;
  for (let done = false; !done;) {
    const page = knex('im_approval_approvals')
      .select('id', 'template', 'context')
      .orderBy('id')
      .limit(500);
    if (after) page.where('id', '>', after);
    const rows = await page;
    done = rows.length < 500;
    for (const row of rows) {
      after = row.id;
      const context = JSON.parse(row.context);
      if (context.test) continue;
      const line = createHash('sha256')
        .update(
          JSON.stringify([
            row.template,
            context.repository,
            context.environment ?? null,
          ]),
        )
        .digest('hex');
      await knex('im_approval_approvals')
        .where({ id: row.id })
        .update({ change_line: line });
    }
  }
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.alterTable('im_approval_approvals', table => {
    table.dropIndex(
      ['change_line', 'status', 'decided_at'],
      'im_approval_approvals_change_line_idx',
    );
    table.dropColumn('change_line');
  });
};
