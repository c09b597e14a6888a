import { isDatabaseConflictError } from '@backstage/backend-plugin-api';
import type { Knex } from 'knex';
import type { EncryptedSecret } from '../settings/SecretBox';
import { AlreadyStoredError } from './DatabaseSettingsStore';

const GATES = 'im_approval_gates';
const APP = 'im_approval_github_app';
const APP_ROW = 'default';

export interface StoredGithubApp {
  appId: string;
  apiBaseUrl: string;
  privateKey: EncryptedSecret;
  webhookSecret: EncryptedSecret;
}

/** Gates and the GitHub App managed in Backstage; what they hold is validated by the settings above. */
export class DatabaseGithubSettingsStore {
  constructor(private readonly knex: Knex) {}

  async listGates(): Promise<Array<{ name: string; settings: unknown }>> {
    const rows = await this.knex(GATES).orderBy('name');
    return rows.map(row => ({
      name: row.name,
      settings: JSON.parse(row.settings),
    }));
  }

  async getGate(name: string): Promise<unknown | undefined> {
    const row = await this.knex(GATES).where({ name }).first();
    return row && JSON.parse(row.settings);
  }

  /** Throws `AlreadyStoredError` when the name is taken. */
  async insertGate(name: string, settings: unknown, actor: string) {
    const now = new Date();
    try {
      await this.knex(GATES).insert({
        name,
        settings: JSON.stringify(settings),
        created_by: actor,
        created_at: now,
        updated_by: actor,
        updated_at: now,
      });
    } catch (error) {
      if (isDatabaseConflictError(error))
        throw new AlreadyStoredError(`gate "${name}" exists`);
      throw error;
    }
  }

  async updateGate(name: string, settings: unknown, actor: string) {
    const updated = await this.knex(GATES)
      .where({ name })
      .update({
        settings: JSON.stringify(settings),
        updated_by: actor,
        updated_at: new Date(),
      });
    return updated > 0;
  }

  async deleteGate(name: string) {
    return (await this.knex(GATES).where({ name }).delete()) > 0;
  }

  async getApp(): Promise<StoredGithubApp | undefined> {
    const row = await this.knex(APP).where({ id: APP_ROW }).first();
    return (
      row && {
        appId: row.app_id,
        apiBaseUrl: row.api_base_url,
        privateKey: JSON.parse(row.private_key),
        webhookSecret: JSON.parse(row.webhook_secret),
      }
    );
  }

  async putApp(app: StoredGithubApp, actor: string) {
    await this.knex(APP)
      .insert({
        id: APP_ROW,
        app_id: app.appId,
        api_base_url: app.apiBaseUrl,
        private_key: JSON.stringify(app.privateKey),
        webhook_secret: JSON.stringify(app.webhookSecret),
        updated_by: actor,
        updated_at: new Date(),
      })
      .onConflict('id')
      .merge();
  }

  async deleteApp() {
    return (await this.knex(APP).where({ id: APP_ROW }).delete()) > 0;
  }
}
