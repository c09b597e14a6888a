// @ts-check

/**
 * Deployment gates: GitHub holds a job that targets a gated environment and asks the GitHub App.
 * Each request is one row, written before GitHub gets its answer; the approval it opens is linked
 * to it, and the verdict is sent back from here, by one replica at a time (the claim), retried with
 * backoff until GitHub has it. Deliveries are GitHub's webhook deliveries as they were answered.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.createTable('im_approval_github_gates', table => {
    table.comment(
      'Jobs GitHub holds for a deployment gate, and the verdict owed to GitHub',
    );
    table
      .string('id', 64)
      .primary()
      .comment('SHA-256 of repository, run, environment and deployment');
    table.string('gate', 100).notNullable();
    table.text('repository').notNullable();
    table.string('run_id', 32).notNullable();
    table.text('environment').notNullable();
    table.string('installation_id', 32).notNullable();
    table
      .text('request')
      .notNullable()
      .comment('JSON: the template, run context and variables to open with');
    table
      .uuid('approval_id')
      .nullable()
      .comment('Set once the approval is stored');
    table
      .string('verdict_state', 16)
      .nullable()
      .comment(
        'approved or rejected when known without an approval (policy); none: nothing to send (the run is gone)',
      );
    table.text('verdict_comment').nullable();
    table.integer('status_reports').notNullable().defaultTo(0);
    table.timestamp('requested_at', { useTz: true }).notNullable();
    table
      .timestamp('next_report_at', { useTz: true })
      .notNullable()
      .comment('When the verdict may be (re)sent; a claim moves it on');
    table.integer('report_attempts').notNullable().defaultTo(0);
    table.text('last_error').nullable();
    table.string('reported_state', 16).nullable();
    table.timestamp('reported_at', { useTz: true }).nullable();
    table.index(['approval_id'], 'im_approval_github_gates_approval_idx');
    table.index(['repository', 'run_id'], 'im_approval_github_gates_run_idx');
    table.index(
      ['reported_at', 'next_report_at'],
      'im_approval_github_gates_due_idx',
    );
  });
  await knex.schema.createTable('im_approval_gates', table => {
    table.comment('Deployment gates managed in Backstage, beside app-config’s');
    table.string('name', 100).primary();
    table.text('settings').notNullable().comment('JSON: the gate');
    table.string('created_by', 255).notNullable();
    table.timestamp('created_at', { useTz: true }).notNullable();
    table.string('updated_by', 255).notNullable();
    table.timestamp('updated_at', { useTz: true }).notNullable();
  });
  await knex.schema.createTable('im_approval_github_app', table => {
    table.comment(
      'The GitHub App saved in Backstage (when app-config names none): one row',
    );
    table.string('id', 16).primary().comment('Always "default"');
    table.string('app_id', 64).notNullable();
    table.text('api_base_url').notNullable();
    table
      .text('private_key')
      .notNullable()
      .comment('JSON: the PEM encrypted with a secrets key (key id, iv, tag)');
    table
      .text('webhook_secret')
      .notNullable()
      .comment('JSON: encrypted like private_key');
    table.string('updated_by', 255).notNullable();
    table.timestamp('updated_at', { useTz: true }).notNullable();
  });
  await knex.schema.createTable('im_approval_github_deliveries', table => {
    table.comment('GitHub webhook deliveries, as they were answered');
    table.string('delivery_id', 64).primary().comment('X-GitHub-Delivery');
    table.string('event', 64).notNullable();
    table.string('action', 64).nullable();
    table.timestamp('received_at', { useTz: true }).notNullable();
    table.string('outcome', 16).notNullable().comment('accepted or ignored');
    table.text('message').notNullable();
    table.index(['received_at'], 'im_approval_github_deliveries_received_idx');
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.dropTable('im_approval_github_deliveries');
  await knex.schema.dropTable('im_approval_github_app');
  await knex.schema.dropTable('im_approval_gates');
  await knex.schema.dropTable('im_approval_github_gates');
};
