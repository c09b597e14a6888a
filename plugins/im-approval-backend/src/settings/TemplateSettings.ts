import { ConflictError, InputError, NotFoundError } from '@backstage/errors';
import { ImApiError } from '@im-approval/plugin-im-approval-node';
import {
  templateSchema,
  type Template,
  type TemplateView,
} from '@im-approval/plugin-im-approval-common';
import {
  AlreadyStoredError,
  type DatabaseSettingsStore,
} from '../database/DatabaseSettingsStore';
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
    const stored = await this.store.listTemplates();
    return [
      ...[...this.config.values()].sort((a, b) => a.name.localeCompare(b.name)),
      ...stored.map(s =>
        parseStored(templateSchema, s.settings, `template "${s.name}"`),
      ),
    ].map(t => this.viewOf(t));
  }

  async view(name: string): Promise<TemplateView> {
    const template = await this.get(name);
    if (!template) throw noTemplate(name);
    return this.viewOf(template);
  }

  async create(template: Template, actor: string): Promise<TemplateView> {
    if (this.config.has(template.name)) {
      throw new ConflictError(
        `Template name "${template.name}" is taken by a template from app-config`,
      );
    }
    await this.requireIntegrationFor(template);
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
    return this.viewOf(template);
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
    if (
      !(await this.store.updateTemplate(
        { name, integration: template.integration, settings: template },
        actor,
      ))
    ) {
      throw noTemplate(name);
    }
    return this.viewOf(template);
  }

  async delete(name: string): Promise<void> {
    if (this.config.has(name)) throw readOnly('Template', name);
    if (!(await this.store.deleteTemplate(name))) throw noTemplate(name);
  }

  private viewOf(template: Template): TemplateView {
    const editable = !this.config.has(template.name);
    return { ...template, source: editable ? 'database' : 'config', editable };
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
    try {
      await this.clients.forIntegration(integration).checkTemplate?.(template);
    } catch (error) {
      if (error instanceof ImApiError && error.kind === 'invalid_request')
        throw new InputError(`body: ${error.message}`);
    }
  }
}

function noTemplate(name: string) {
  return new NotFoundError(`There is no template "${name}"`);
}
