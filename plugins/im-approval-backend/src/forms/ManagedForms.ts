import type { LoggerService } from '@backstage/backend-plugin-api';
import { InputError } from '@backstage/errors';
import {
  existingFormOf,
  type Integration,
  type ManagedForm,
  type Template,
} from '@im-approval/plugin-im-approval-common';
import {
  ImApiError,
  type ImClient,
} from '@im-approval/plugin-im-approval-node';
import type {
  DatabaseManagedFormStore,
  StoredManagedForm,
} from '../database/DatabaseManagedFormStore';
import { formSpecOf, specHash } from './formSpec';

/** How long a drift check stands before an approval's opening checks the form again. */
const DRIFT_CHECK_MS = 5 * 60_000;

/**
 * The IM forms the backend makes for templates with `form: { create: true }`: made when the
 * template is saved (or, for a template from app-config, when it is first used), updated in place
 * when the template changes what the form must hold, and checked for edits made in the IM's
 * console, which refuse new approvals until the form is updated from the template again.
 */
export class ManagedForms {
  /** One save per template at a time in this process: a burst of first uses makes one form. */
  private readonly saving = new Map<string, Promise<StoredManagedForm>>();

  constructor(
    private readonly options: {
      store: DatabaseManagedFormStore;
      client: (integration: Integration) => ImClient;
      integration: (id: string) => Promise<Integration | undefined>;
      logger: LoggerService;
    },
  ) {}

  async views(): Promise<Map<string, ManagedForm>> {
    const stored = await this.options.store.list();
    return new Map(stored.map(form => [form.template, viewOf(form)]));
  }

  /** Creates the template's form in the IM, or updates the one made before in place. */
  async save(template: Template): Promise<ManagedForm> {
    return viewOf(await this.saved(template));
  }

  /**
   * When a template is saved: its form is updated if the template changed what it must hold,
   * otherwise checked (an edit made in the IM is reported, not overwritten).
   */
  async templateSaved(template: Template): Promise<void> {
    if (existingFormOf(template) !== undefined) {
      await this.options.store.delete(template.name);
      return;
    }
    const stored = await this.options.store.get(template.name);
    if (stored && this.current(template, stored))
      await this.check(template, stored);
    else await this.saved(template);
  }

  async templateDeleted(name: string): Promise<void> {
    await this.options.store.delete(name);
  }

  /**
   * The IM form to open an approval of the template with: its own, or the one made for it (made or
   * updated now if need be). A made form edited in the IM is refused with what differs.
   */
  async formIdFor(template: Template): Promise<string> {
    const existing = existingFormOf(template);
    if (existing !== undefined) return existing;
    let stored = await this.options.store.get(template.name);
    if (!stored || !this.current(template, stored))
      stored = await this.saved(template);
    else if (Date.now() - Date.parse(stored.checkedAt) >= DRIFT_CHECK_MS)
      stored = await this.check(template, stored);
    if (stored.drift.length > 0) {
      throw new ImApiError(
        'invalid_request',
        `The form ${stored.formId} made in the IM for template "${template.name}" was changed there: ${stored.drift.join('; ')}. ` +
          `Update it from the template ("Update the form in the IM" on the template, or POST /templates/${template.name}/form)`,
      );
    }
    return stored.formId;
  }

  /** Whether the stored form was made on the template's integration from what the template now asks. */
  private current(template: Template, stored: StoredManagedForm) {
    return (
      stored.integration === template.integration &&
      stored.specHash === specHash(formSpecOf(template))
    );
  }

  private async check(
    template: Template,
    stored: StoredManagedForm,
  ): Promise<StoredManagedForm> {
    const client = await this.clientOf(template);
    const drift =
      (await client
        .formDrift?.(formSpecOf(template), stored.formId)
        .catch(error => {
          if (error instanceof ImApiError && error.kind === 'not_found')
            return ['the form was deleted in the IM'];
          throw error;
        })) ?? [];
    if (drift.length > 0)
      this.options.logger.warn(
        `The IM form ${stored.formId} of template "${template.name}" was changed in the IM: ${drift.join('; ')}`,
      );
    return (await this.options.store.checked(template.name, drift)) ?? stored;
  }

  private saved(template: Template): Promise<StoredManagedForm> {
    const pending = this.saving.get(template.name);
    if (pending) return pending;
    const saving = this.saveInIm(template).finally(() =>
      this.saving.delete(template.name),
    );
    this.saving.set(template.name, saving);
    return saving;
  }

  private async saveInIm(template: Template): Promise<StoredManagedForm> {
    if (existingFormOf(template) !== undefined)
      throw new InputError(
        `template "${template.name}" uses the existing IM form "${existingFormOf(template)}"; set its form to { create: true } for one the backend makes`,
      );
    const client = await this.clientOf(template);
    if (!client.saveForm)
      throw new InputError(
        `template "${template.name}": its IM cannot have forms made by the backend; name an existing form instead`,
      );
    const spec = formSpecOf(template);
    const stored = await this.options.store.get(template.name);
    // A template moved to another IM app gets a form of its own there.
    const formId =
      stored?.integration === template.integration ? stored.formId : undefined;
    const saved = await client.saveForm(spec, formId).catch(error => {
      // Deleted in the IM: made anew (approvals in the IM keep the old one's id).
      if (formId && error instanceof ImApiError && error.kind === 'not_found')
        return client.saveForm!(spec);
      throw error;
    });
    this.options.logger.info(
      `${formId ? 'Updated' : 'Created'} IM form ${saved.formId} for template "${template.name}"`,
    );
    return this.options.store.saved({
      template: template.name,
      integration: template.integration,
      formId: saved.formId,
      url: saved.url,
      specHash: specHash(spec),
    });
  }

  private async clientOf(template: Template) {
    const integration = await this.options.integration(template.integration);
    if (!integration)
      throw new InputError(
        `template "${template.name}": there is no integration "${template.integration}"`,
      );
    return this.options.client(integration);
  }
}

function viewOf(form: StoredManagedForm): ManagedForm {
  const { formId, url, integration, savedAt, checkedAt, drift } = form;
  return { formId, url, integration, savedAt, checkedAt, drift };
}
