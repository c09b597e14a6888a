import type { ManagedForm } from '@im-approval/plugin-im-approval-common';
import type { Knex } from 'knex';
import { iso, type Timestamp } from './rows';

const MANAGED_FORMS = 'im_approval_managed_forms';

interface ManagedFormRow {
  template: string;
  integration_id: string;
  form_id: string;
  url: string | null;
  spec_hash: string;
  drift: string;
  saved_at: Timestamp;
  checked_at: Timestamp;
}

/** A form the backend made, with the hash of the spec it was last saved from. */
export interface StoredManagedForm extends ManagedForm {
  template: string;
  specHash: string;
}

function toManagedForm(row: ManagedFormRow): StoredManagedForm {
  return {
    template: row.template,
    integration: row.integration_id,
    formId: row.form_id,
    url: row.url,
    specHash: row.spec_hash,
    drift: JSON.parse(row.drift),
    savedAt: iso(row.saved_at),
    checkedAt: iso(row.checked_at),
  };
}

/** The IM forms made for templates with `form: { create: true }`, one per template. */
export class DatabaseManagedFormStore {
  constructor(private readonly knex: Knex) {}

  async get(template: string): Promise<StoredManagedForm | undefined> {
    const row = await this.knex<ManagedFormRow>(MANAGED_FORMS)
      .where({ template })
      .first();
    return row && toManagedForm(row);
  }

  async list(): Promise<StoredManagedForm[]> {
    const rows = await this.knex<ManagedFormRow>(MANAGED_FORMS).select();
    return rows.map(toManagedForm);
  }

  /** Records a form just saved in the IM (it matches its spec: no drift). */
  async saved(form: {
    template: string;
    integration: string;
    formId: string;
    url?: string;
    specHash: string;
  }): Promise<StoredManagedForm> {
    const now = new Date();
    const row: ManagedFormRow = {
      template: form.template,
      integration_id: form.integration,
      form_id: form.formId,
      url: form.url ?? null,
      spec_hash: form.specHash,
      drift: '[]',
      saved_at: now,
      checked_at: now,
    };
    await this.knex<ManagedFormRow>(MANAGED_FORMS)
      .insert(row)
      .onConflict('template')
      .merge();
    return toManagedForm(row);
  }

  /** Records a drift check of the form a template has (undefined if it has none any more). */
  async checked(
    template: string,
    drift: string[],
  ): Promise<StoredManagedForm | undefined> {
    await this.knex<ManagedFormRow>(MANAGED_FORMS)
      .where({ template })
      .update({ drift: JSON.stringify(drift), checked_at: new Date() });
    return this.get(template);
  }

  async delete(template: string): Promise<void> {
    await this.knex<ManagedFormRow>(MANAGED_FORMS).where({ template }).delete();
  }
}
