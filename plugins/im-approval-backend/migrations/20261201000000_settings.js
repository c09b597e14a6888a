// @ts-check

/** @param {import('knex').Knex} knex */
exports.up = async function up(knex) {
  await knex.schema.createTable('im_approval_integrations', table => {
    table.comment(
      'IM apps managed in the UI, beside the read-only ones from app-config',
    );
    table.string('id', 64).primary();
    table.string('provider', 64).notNullable();
    table
      .text('settings')
      .notNullable()
      .comment('JSON: the integration without its secrets');
    table.string('created_by', 255).notNullable();
    table.timestamp('created_at', { useTz: true }).notNullable();
    table.string('updated_by', 255).notNullable();
    table.timestamp('updated_at', { useTz: true }).notNullable();
  });

  await knex.schema.createTable('im_approval_integration_secrets', table => {
    table.comment(
      'Secrets of database-managed integrations, AES-256-GCM encrypted',
    );
    table
      .string('integration_id', 64)
      .notNullable()
      .references('id')
      .inTable('im_approval_integrations')
      .onDelete('CASCADE');
    table.string('field', 64).notNullable();
    table
      .string('key_id', 64)
      .notNullable()
      .comment('Which configured key encrypted it, for rotation');
    table.string('iv', 32).notNullable();
    table.string('auth_tag', 32).notNullable();
    table.text('ciphertext').notNullable();
    table.primary(['integration_id', 'field']);
  });

  await knex.schema.createTable('im_approval_templates', table => {
    table.comment(
      'Approval templates managed in the UI, beside the read-only ones from app-config',
    );
    table.string('name', 100).primary();
    table
      .string('integration_id', 64)
      .notNullable()
      .comment('A database or app-config integration');
    table.text('settings').notNullable().comment('JSON: the template');
    table.string('created_by', 255).notNullable();
    table.timestamp('created_at', { useTz: true }).notNullable();
    table.string('updated_by', 255).notNullable();
    table.timestamp('updated_at', { useTz: true }).notNullable();
    table.index(['integration_id'], 'im_approval_templates_integration_idx');
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.dropTable('im_approval_templates');
  await knex.schema.dropTable('im_approval_integration_secrets');
  await knex.schema.dropTable('im_approval_integrations');
};
