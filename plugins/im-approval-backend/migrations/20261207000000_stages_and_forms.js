// @ts-check

/**
 * Stages and forms the backend makes. An approval of a template with several stages keeps them
 * (`stages`: the people each asked, and how far each has come, as JSON); a stage that counts its
 * approvals gives each approver an IM instance of their own, found again by `stage_instances`;
 * a template whose form is
 * `{ create: true }` has the IM form made for it recorded here, by template name: its id in the IM,
 * a hash of what it was made from (so a changed template updates it) and the last drift check.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.alterTable('im_approval_approvals', table => {
    table
      .text('stages')
      .notNullable()
      .defaultTo('[]')
      .comment(
        'JSON: the stages, their approvers and progress; [] for one stage',
      );
  });
  await knex.schema.createTable('im_approval_stage_instances', table => {
    table.comment(
      'IM instances of the requests of stages that count approvals, one per approver',
    );
    table.string('integration_id', 64).notNullable();
    table.string('instance_id', 255).notNullable();
    table
      .uuid('approval_id')
      .notNullable()
      .references('id')
      .inTable('im_approval_approvals')
      .onDelete('CASCADE');
    table.primary(['integration_id', 'instance_id']);
    table.index(['approval_id'], 'im_approval_stage_instances_approval_idx');
  });
  await knex.schema.createTable('im_approval_managed_forms', table => {
    table.comment(
      'IM forms the backend made for templates with form: { create: true }',
    );
    table.string('template', 100).primary();
    table.string('integration_id', 64).notNullable();
    table
      .string('form_id', 255)
      .notNullable()
      .comment('Feishu approval_code, DingTalk processCode, WeCom template_id');
    table.text('url').nullable();
    table
      .string('spec_hash', 64)
      .notNullable()
      .comment('SHA-256 of the form spec it was last saved from');
    table
      .text('drift')
      .notNullable()
      .defaultTo('[]')
      .comment(
        'JSON: how the IM form differed from the spec at the last check',
      );
    table.timestamp('saved_at', { useTz: true }).notNullable();
    table.timestamp('checked_at', { useTz: true }).notNullable();
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.dropTable('im_approval_managed_forms');
  await knex.schema.dropTable('im_approval_stage_instances');
  await knex.schema.alterTable('im_approval_approvals', table => {
    table.dropColumn('stages');
  });
};
