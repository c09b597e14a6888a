import { ConflictError, InputError, NotFoundError } from '@backstage/errors';
import { ImApiError } from '@im-approval/plugin-im-approval-node';
import {
  existingFormOf,
  templateSchema,
  type ManagedForm,
  type Template,
  type TemplateView,
} from '@im-approval/plugin-im-approval-common';
import {
  AlreadyStoredError,
  type DatabaseSettingsStore,
} from '../database/DatabaseSettingsStore';
import type { ManagedForms } from '../forms/ManagedForms';
import { requestStagesOf } from '../service/approvalStages';
import type { ImClients } from '../service/ImClients';
import type { IntegrationSettings } from './IntegrationSettings';
import { parseStored, readOnly } from './storedSettings';

/** Approval templates from app-config (read-only) and from the database (managed through the API). */
export class TemplateSettings {
  private readonly config: Map<string, Template>;

  constructor(
    config: Template[],
    private readonly store: DatabaseSettingsStore,
    private readonly integrations: IntegrationSettings,
    private readonly clients: ImClients,
    private readonly forms: ManagedForms,
  ) {
    this.config = new Map(config.map(t => [t.name, t]));
  }

  async get(name: string): Promise<Template | undefined> {
    const configured = this.config.get(name);
    if (configured) return configured;
    const stored = await this.store.getTemplate(name);
    return (
      stored &&
      parseStored(templateSchema, stored.settings, `template "${name}"`)
    );
  }

  async list(): Promise<TemplateView[]> {
    const [stored, forms] = await Promise.all([
      this.store.listTemplates(),
      this.forms.views(),
    ]);
    return [
      ...[...this.config.values()].sort((a, b) => a.name.localeCompare(b.name)),
      ...stored.map(s =>
        parseStored(templateSchema, s.settings, `template "${s.name}"`),
      ),
    ].map(t => this.viewOf(t, forms));
  }

  async view(name: string): Promise<TemplateView> {
    const template = await this.get(name);
    if (!template) throw noTemplate(name);
    return this.viewOf(template, await this.forms.views());
  }

  /** Creates or updates the IM form of a template with `form: { create: true }`. */
  async saveForm(name: string): Promise<ManagedForm> {
    const template = await this.get(name);
    if (!template) throw noTemplate(name);
    const existing = existingFormOf(template);
    if (existing !== undefined)
      throw new ConflictError(
        `Template "${name}" uses the existing IM form "${existing}"; set its form to { create: true } for one the backend makes`,
      );
    return this.forms.save(template);
  }

  async create(template: Template, actor: string): Promise<TemplateView> {
    if (this.config.has(template.name)) {
      throw new ConflictError(
        `Template name "${template.name}" is taken by a template from app-config`,
      );
    }
    await this.requireIntegrationFor(template);
    if (await this.store.getTemplate(template.name))
      throw new ConflictError(`Template name "${template.name}" is taken`);
    await this.keepFormInStep(template);
    try {
      await this.store.insertTemplate(
        {
          name: template.name,
          integration: template.integration,
          settings: template,
        },
        actor,
      );
    } catch (error) {
      if (error instanceof AlreadyStoredError)
        throw new ConflictError(`Template name "${template.name}" is taken`);
      throw error;
    }
    return this.view(template.name);
  }

  async update(
    name: string,
    template: Template,
    actor: string,
  ): Promise<TemplateView> {
    if (this.config.has(name)) throw readOnly('Template', name);
    if (template.name !== name)
      throw new InputError(
        `body.name: must be "${name}"; a template cannot be renamed`,
      );
    await this.requireIntegrationFor(template);
    if (!(await this.store.getTemplate(name))) throw noTemplate(name);
    await this.keepFormInStep(template);
    if (
      !(await this.store.updateTemplate(
        { name, integration: template.integration, settings: template },
        actor,
      ))
    ) {
      throw noTemplate(name);
    }
    return this.view(name);
  }

  async delete(name: string): Promise<void> {
    if (this.config.has(name)) throw readOnly('Template', name);
    if (!(await this.store.deleteTemplate(name))) throw noTemplate(name);
    // The form stays in the IM (approvals made with it may still be open there).
    await this.forms.templateDeleted(name);
  }

  /**
   * A template with `form: { create: true }` gets its form made or updated as it is saved; what the
   * IM refuses refuses the save. An IM that cannot be reached now does not: the form is made or
   * checked when the template is first used.
   */
  private async keepFormInStep(template: Template) {
    try {
      await this.forms.templateSaved(template);
    } catch (error) {
      if (!(error instanceof ImApiError)) throw error;
      if (error.transient) return;
      if (error.kind === 'invalid_request')
        throw new InputError(`body.form: ${error.message}`);
      throw new ConflictError(error.message);
    }
  }

  private viewOf(
    template: Template,
    forms: Map<string, ManagedForm>,
  ): TemplateView {
    const editable = !this.config.has(template.name);
    return {
      ...template,
      source: editable ? 'database' : 'config',
      editable,
      ...(existingFormOf(template) === undefined
        ? { managedForm: forms.get(template.name) ?? null }
        : {}),
    };
  }

  /**
   * The template's integration must exist, and its IM form must take what the template asks
   * (where the IM can tell ahead). An IM that cannot be asked right now does not block the save:
   * the same check runs when an approval is opened.
   */
  private async requireIntegrationFor(template: Template) {
    const integration = await this.integrations.get(template.integration);
    if (!integration)
      throw new InputError(
        `body.integration: there is no integration "${template.integration}"`,
      );
    const noCards =
      template.groupChat !== undefined &&
      this.clients.cardsUnavailable(integration);
    if (noCards) throw new InputError(`body.groupChat: ${noCards}`);
    const form = existingFormOf(template);
    if (form === undefined) return;
    try {
      await this.clients
        .forIntegration(integration)
        .checkTemplate?.({ form, stages: requestStagesOf(template) });
    } catch (error) {
      if (error instanceof ImApiError && error.kind === 'invalid_request')
        throw new InputError(`body: ${error.message}`);
    }
  }
}

function noTemplate(name: string) {
  return new NotFoundError(`There is no template "${name}"`);
}
