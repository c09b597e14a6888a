import { TestDatabases } from '@backstage/backend-test-utils';
import { resolvePackagePath } from '@backstage/backend-plugin-api';
import { randomUUID } from 'node:crypto';
import { changeLineOf } from './changeLine';

jest.setTimeout(60_000);

const databases = TestDatabases.create({ ids: ['POSTGRES_15', 'SQLITE_3'] });
const directory = resolvePackagePath(
  '@im-approval/plugin-im-approval-backend',
  'migrations',
);

function legacyApproval(key: string, caller: string) {
  const now = new Date();
  return {
    id: randomUUID(),
    idempotency_key: key,
    template: 'deploy',
    integration_id: 'feishu-main',
    provider: 'feishu',
    title: 'Deploy',
    status: 'pending',
    context: JSON.stringify({ repository: 'acme/api', verified: true, caller }),
    variables: '{}',
    form: '[]',
    approvers: '[]',
    created_at: now,
    updated_at: now,
    expires_at: now,
  };
}

describe.each(databases.eachSupportedId())('migrations on %p', databaseId => {
  it('scope existing idempotency keys to the caller in their context, tell nobody of old approvals, and go down again', async () => {
    const knex = await databases.init(databaseId);
    await knex.migrate.up({ directory, name: '20261121000000_init.js' });
    await knex.migrate.up({ directory, name: '20261201000000_settings.js' });
    const before = legacyApproval('run-1', 'github:acme/api');
    await knex('im_approval_approvals').insert(before);

    await knex.migrate.latest({ directory });
    expect(
      await knex('im_approval_approvals').where({ id: before.id }).first(),
    ).toMatchObject({ caller: 'github:acme/api', request: null, cc: '[]' });
    // The same key may now be used by another caller, not twice by the same one.
    await knex('im_approval_approvals').insert({
      ...legacyApproval('run-1', 'external:bot'),
      caller: 'external:bot',
    });
    await expect(
      knex('im_approval_approvals').insert({
        ...legacyApproval('run-1', 'external:bot'),
        caller: 'external:bot',
      }),
    ).rejects.toThrow();
    // Text from an IM longer than the old varchar(255) columns.
    await knex('im_approval_approvals')
      .where({ id: before.id })
      .update({
        decided_by: 'x'.repeat(1000),
        im_instance_id: 'i'.repeat(1000),
      });

    await knex('im_approval_approvals').whereNot({ id: before.id }).delete();
    await knex('im_approval_approvals')
      .where({ id: before.id })
      .update({ decided_by: null, im_instance_id: null });
    await knex.migrate.rollback({ directory }, true);
    expect(await knex.schema.hasTable('im_approval_approvals')).toBe(false);
    await knex.destroy();
  });

  it('give approvals opened before change lines the line the store computes, and none to template tests', async () => {
    const knex = await databases.init(databaseId);
    await knex.migrate.up({ directory, name: '20261121000000_init.js' });
    const run = legacyApproval('run-2', 'github:acme/api');
    run.context = JSON.stringify({
      repository: 'acme/api',
      environment: 'production',
      verified: true,
      caller: 'github:acme/api',
    });
    const test = legacyApproval('test-2', 'user:default/alice');
    test.context = JSON.stringify({
      repository: 'acme/api',
      verified: false,
      caller: 'user:default/alice',
      test: true,
    });
    await knex('im_approval_approvals').insert([run, test]);

    await knex.migrate.latest({ directory });
    const lines = await knex('im_approval_approvals')
      .select('id', 'change_line')
      .orderBy('idempotency_key');
    expect(lines).toEqual([
      {
        id: run.id,
        change_line: changeLineOf('deploy', JSON.parse(run.context)),
      },
      { id: test.id, change_line: null },
    ]);
    expect(lines[0].change_line).toMatch(/^[0-9a-f]{64}$/);
    await knex.destroy();
  });
});
