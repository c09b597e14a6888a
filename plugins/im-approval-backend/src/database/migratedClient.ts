import {
  resolvePackagePath,
  type DatabaseService,
} from '@backstage/backend-plugin-api';
import type { Knex } from 'knex';

const migrationsDir = resolvePackagePath(
  '@im-approval/plugin-im-approval-backend',
  'migrations',
);

export function isSqlite(knex: Knex): boolean {
  return ['better-sqlite3', 'sqlite3'].includes(
    String(knex.client.config.client),
  );
}

export function isPostgres(knex: Knex): boolean {
  return ['pg', 'postgres', 'postgresql'].includes(
    String(knex.client.config.client),
  );
}

/** The plugin's database client, migrated to the latest schema (unless the operator migrates), shared by every store. */
export async function migratedClient(database: DatabaseService): Promise<Knex> {
  const knex = await database.getClient();
  if (!database.migrations?.skip) {
    await knex.migrate.latest({ directory: migrationsDir });
  }
  if (isSqlite(knex)) {
    // Write-ahead logging, synced at checkpoints: a decision costs one append instead of a journal
    // rewrite and two fsyncs, and survives a process crash (only a power loss may lose the last ones).
    await knex.raw('PRAGMA journal_mode = WAL');
    await knex.raw('PRAGMA synchronous = NORMAL');
  }
  return knex;
}
