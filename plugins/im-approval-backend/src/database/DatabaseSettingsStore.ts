import { isDatabaseConflictError } from '@backstage/backend-plugin-api';
import type { Knex } from 'knex';
import type { Timestamp } from './rows';
import type { EncryptedSecret } from '../settings/SecretBox';

const INTEGRATIONS = 'im_approval_integrations';
const SECRETS = 'im_approval_integration_secrets';
const TEMPLATES = 'im_approval_templates';

interface IntegrationRow {
  id: string;
  provider: string;
  settings: string;
  created_by: string;
  created_at: Timestamp;
  updated_by: string;
  updated_at: Timestamp;
}

interface SecretRow {
  integration_id: string;
  field: string;
  key_id: string;
  iv: string;
  auth_tag: string;
  ciphertext: string;
}

interface TemplateRow {
  name: string;
  integration_id: string;
  settings: string;
  created_by: string;
  created_at: Timestamp;
  updated_by: string;
  updated_at: Timestamp;
}

/** An integration as stored: its settings without secrets, and each secret encrypted. */
export interface StoredIntegration {
  id: string;
  provider: string;
  settings: Record<string, unknown>;
  secrets: Record<string, EncryptedSecret>;
}

export interface StoredTemplate {
  name: string;
  integration: string;
  settings: Record<string, unknown>;
}

export interface StoredSecret extends EncryptedSecret {
  integrationId: string;
  field: string;
}

/** A row with this id or name exists already. */
export class AlreadyStoredError extends Error {}

/**
 * Database-managed integrations and templates. Every write of an integration replaces its secrets
 * in the same transaction, so a reader never sees settings and secrets from different versions.
 */
export class DatabaseSettingsStore {
  constructor(private readonly knex: Knex) {}

  async listIntegrations(): Promise<StoredIntegration[]> {
    const [rows, secrets] = await Promise.all([
      this.knex<IntegrationRow>(INTEGRATIONS).orderBy('id'),
      this.knex<SecretRow>(SECRETS).select(),
    ]);
    return rows.map(row =>
      toIntegration(
        row,
        secrets.filter(s => s.integration_id === row.id),
      ),
    );
  }

  async getIntegration(id: string): Promise<StoredIntegration | undefined> {
    const [row, secrets] = await Promise.all([
      this.knex<IntegrationRow>(INTEGRATIONS).where({ id }).first(),
      this.knex<SecretRow>(SECRETS).where({ integration_id: id }),
    ]);
    return row && toIntegration(row, secrets);
  }

  /** Throws `AlreadyStoredError` when the id is taken. */
  async insertIntegration(
    integration: StoredIntegration,
    actor: string,
  ): Promise<void> {
    const now = new Date();
    try {
      await this.knex.transaction(async tx => {
        await tx<IntegrationRow>(INTEGRATIONS).insert({
          id: integration.id,
          provider: integration.provider,
          settings: JSON.stringify(integration.settings),
          created_by: actor,
          created_at: now,
          updated_by: actor,
          updated_at: now,
        });
        await insertSecrets(tx, integration);
      });
    } catch (error) {
      if (isDatabaseConflictError(error))
        throw new AlreadyStoredError(`integration "${integration.id}" exists`);
      throw error;
    }
  }

  /** False when there is no such integration. */
  async updateIntegration(
    integration: StoredIntegration,
    actor: string,
  ): Promise<boolean> {
    return this.knex.transaction(async tx => {
      const updated = await tx<IntegrationRow>(INTEGRATIONS)
        .where({ id: integration.id })
        .update({
          settings: JSON.stringify(integration.settings),
          updated_by: actor,
          updated_at: new Date(),
        });
      if (updated === 0) return false;
      await tx(SECRETS).where({ integration_id: integration.id }).delete();
      await insertSecrets(tx, integration);
      return true;
    });
  }

  async deleteIntegration(id: string): Promise<boolean> {
    return this.knex.transaction(async tx => {
      await tx(SECRETS).where({ integration_id: id }).delete();
      return (await tx(INTEGRATIONS).where({ id }).delete()) > 0;
    });
  }

  async listSecrets(): Promise<StoredSecret[]> {
    const rows = await this.knex<SecretRow>(SECRETS).orderBy([
      'integration_id',
      'field',
    ]);
    return rows.map(row => ({
      integrationId: row.integration_id,
      field: row.field,
      ...toSecret(row),
    }));
  }

  /** Replaces one secret's ciphertext (re-encryption under a new key); false if it changed meanwhile. */
  async replaceSecret(
    previous: StoredSecret,
    next: EncryptedSecret,
  ): Promise<boolean> {
    const updated = await this.knex<SecretRow>(SECRETS)
      .where({
        integration_id: previous.integrationId,
        field: previous.field,
        key_id: previous.keyId,
        iv: previous.iv,
      })
      .update({
        key_id: next.keyId,
        iv: next.iv,
        auth_tag: next.authTag,
        ciphertext: next.ciphertext,
      });
    return updated > 0;
  }

  async listTemplates(): Promise<StoredTemplate[]> {
    const rows = await this.knex<TemplateRow>(TEMPLATES).orderBy('name');
    return rows.map(toTemplate);
  }

  async getTemplate(name: string): Promise<StoredTemplate | undefined> {
    const row = await this.knex<TemplateRow>(TEMPLATES).where({ name }).first();
    return row && toTemplate(row);
  }

  async templatesUsing(integrationId: string): Promise<string[]> {
    const rows = await this.knex<TemplateRow>(TEMPLATES)
      .where({ integration_id: integrationId })
      .orderBy('name')
      .select('name');
    return rows.map(row => row.name);
  }

  /** Throws `AlreadyStoredError` when the name is taken. */
  async insertTemplate(template: StoredTemplate, actor: string): Promise<void> {
    const now = new Date();
    try {
      await this.knex<TemplateRow>(TEMPLATES).insert({
        name: template.name,
        integration_id: template.integration,
        settings: JSON.stringify(template.settings),
        created_by: actor,
        created_at: now,
        updated_by: actor,
        updated_at: now,
      });
    } catch (error) {
      if (isDatabaseConflictError(error))
        throw new AlreadyStoredError(`template "${template.name}" exists`);
      throw error;
    }
  }

  async updateTemplate(
    template: StoredTemplate,
    actor: string,
  ): Promise<boolean> {
    const updated = await this.knex<TemplateRow>(TEMPLATES)
      .where({ name: template.name })
      .update({
        integration_id: template.integration,
        settings: JSON.stringify(template.settings),
        updated_by: actor,
        updated_at: new Date(),
      });
    return updated > 0;
  }

  async deleteTemplate(name: string): Promise<boolean> {
    return (await this.knex(TEMPLATES).where({ name }).delete()) > 0;
  }
}

function toSecret(row: SecretRow): EncryptedSecret {
  return {
    keyId: row.key_id,
    iv: row.iv,
    authTag: row.auth_tag,
    ciphertext: row.ciphertext,
  };
}

function toIntegration(
  row: IntegrationRow,
  secrets: SecretRow[],
): StoredIntegration {
  return {
    id: row.id,
    provider: row.provider,
    settings: JSON.parse(row.settings),
    secrets: Object.fromEntries(
      secrets.map(secret => [secret.field, toSecret(secret)]),
    ),
  };
}

function toTemplate(row: TemplateRow): StoredTemplate {
  return {
    name: row.name,
    integration: row.integration_id,
    settings: JSON.parse(row.settings),
  };
}

async function insertSecrets(
  tx: Knex.Transaction,
  integration: StoredIntegration,
) {
  const rows = Object.entries(integration.secrets).map(([field, secret]) => ({
    integration_id: integration.id,
    field,
    key_id: secret.keyId,
    iv: secret.iv,
    auth_tag: secret.authTag,
    ciphertext: secret.ciphertext,
  }));
  if (rows.length > 0) await tx(SECRETS).insert(rows);
}
