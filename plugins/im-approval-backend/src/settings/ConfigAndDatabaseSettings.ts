import type { LoggerService } from '@backstage/backend-plugin-api';
import { ConflictError, InputError, NotFoundError, ServiceUnavailableError } from '@backstage/errors';
import {
  describeZodError,
  integrationSchema,
  integrationViewSchema,
  secretFieldsOf,
  templateSchema,
  type Integration,
  type IntegrationView,
  type Template,
  type TemplateView,
  type UpdateIntegrationRequest,
} from '@im-approval/plugin-im-approval-common';
import type { z } from 'zod';
import type { ImClients } from '../service/ImClients';
import type { SettingsSource } from '../service/SettingsSource';
import { AlreadyStoredError, type DatabaseSettingsStore, type StoredIntegration } from '../database/DatabaseSettingsStore';
import type { EncryptedSecret, SecretBox } from './SecretBox';

export interface ConfigAndDatabaseSettingsOptions {
  config: { integrations: Integration[]; templates: Template[] };
  store: DatabaseSettingsStore;
  /** Absent when no secrets key is configured: database-managed integrations cannot be written then. */
  box?: SecretBox;
  clients: ImClients;
  logger: LoggerService;
}

/** A stored integration's settings with its secret fields present (their values still encrypted). */
type StoredValues = Record<string, unknown> & Pick<Integration, 'id' | 'provider'>;

const NO_KEY_MESSAGE =
  'Integrations managed in Backstage need a key to encrypt their secrets: set imApproval.secretsKey in app-config';

/** Where a secret of an integration is stored; bound into its ciphertext. */
const secretLocation = (integrationId: string, field: string) => `${integrationId}/${field}`;

function readOnly(kind: 'Integration' | 'Template', key: string): ConflictError {
  return new ConflictError(`${kind} "${key}" comes from app-config and is read-only; change it there`);
}

/**
 * Integrations and templates from app-config (read-only) and from the database (managed through
 * the API). Reads go to the database every time, so every replica uses a change at once.
 */
export class ConfigAndDatabaseSettings implements SettingsSource {
  private readonly configIntegrations: Map<string, Integration>;
  private readonly configTemplates: Map<string, Template>;
  private readonly store: DatabaseSettingsStore;
  private readonly box?: SecretBox;
  private readonly clients: ImClients;

  /**
   * Refuses to start when the database holds secrets no configured key can open, or an id or
   * name that app-config uses too; re-encrypts secrets under older keys with the current one.
   */
  static async create(options: ConfigAndDatabaseSettingsOptions): Promise<ConfigAndDatabaseSettings> {
    const { store, box, logger, config } = options;
    const secrets = await store.listSecrets();
    if (secrets.length > 0 && !box) {
      throw new Error(
        `The database holds ${secrets.length} encrypted secret(s) of integrations managed in Backstage, ` +
          'but imApproval.secretsKey is not configured: add the key they were encrypted with',
      );
    }
    const unknownKeys = [...new Set(secrets.map(s => s.keyId).filter(id => !box!.hasKey(id)))];
    if (unknownKeys.length > 0) {
      throw new Error(
        `Secrets of integrations managed in Backstage were encrypted with key(s) ${unknownKeys.map(k => `"${k}"`).join(', ')}, ` +
          'which imApproval.secretsKeys does not list: add them (after the current key) to decrypt',
      );
    }
    let rotated = 0;
    for (const secret of secrets.filter(s => s.keyId !== box?.currentKeyId)) {
      const location = secretLocation(secret.integrationId, secret.field);
      const next = box!.encrypt(box!.decrypt(secret, location), location);
      if (await store.replaceSecret(secret, next)) rotated++;
    }
    if (rotated > 0) logger.info(`Re-encrypted ${rotated} integration secret(s) with key "${box!.currentKeyId}"`);

    const [integrations, templates] = await Promise.all([store.listIntegrations(), store.listTemplates()]);
    const configIds = new Set(config.integrations.map(i => i.id));
    const configNames = new Set(config.templates.map(t => t.name));
    const clash =
      integrations.find(i => configIds.has(i.id))?.id ?? templates.find(t => configNames.has(t.name))?.name;
    if (clash) {
      throw new Error(
        `"${clash}" is defined both in app-config and in the database; ids and names must be unique: rename or remove one`,
      );
    }
    const settings = new ConfigAndDatabaseSettings(options);
    // An integration saved under older rules (say, Feishu callbacks without an Encrypt Key) stays
    // stored, but is refused wherever it is used until someone edits it: say so now.
    for (const stored of integrations) {
      try {
        settings.open(stored);
      } catch (error) {
        logger.warn(`${(error as Error).message}; edit it on the IM apps page (approvals through it fail until then)`);
      }
    }
    return settings;
  }

  private constructor(options: ConfigAndDatabaseSettingsOptions) {
    this.configIntegrations = new Map(options.config.integrations.map(i => [i.id, i]));
    this.configTemplates = new Map(options.config.templates.map(t => [t.name, t]));
    this.store = options.store;
    this.box = options.box;
    this.clients = options.clients;
  }

  /** Whether integrations can be written to the database (a secrets key is configured). */
  get databaseSettings(): boolean {
    return this.box !== undefined;
  }

  async integration(id: string): Promise<Integration | undefined> {
    const configured = this.configIntegrations.get(id);
    if (configured) return configured;
    const stored = await this.store.getIntegration(id);
    return stored && this.open(stored);
  }

  async template(name: string): Promise<Template | undefined> {
    const configured = this.configTemplates.get(name);
    if (configured) return configured;
    const stored = await this.store.getTemplate(name);
    return stored && this.parseStored(templateSchema, stored.settings, `template "${name}"`);
  }

  /** Every integration, secrets included: app-config's first, then the database's. */
  async allIntegrations(): Promise<Integration[]> {
    const stored = await this.store.listIntegrations();
    return [...this.configIntegrations.values(), ...stored.map(s => this.open(s))];
  }

  /** Views need only whether each secret is set, so stored secrets are not decrypted for them. */
  async listIntegrations(): Promise<IntegrationView[]> {
    const stored = await this.store.listIntegrations();
    return [
      ...[...this.configIntegrations.values()].sort((a, b) => a.id.localeCompare(b.id)).map(i => this.viewOf(i)),
      ...stored.map(s => this.storedViewOf(s)),
    ];
  }

  async integrationView(id: string): Promise<IntegrationView> {
    const configured = this.configIntegrations.get(id);
    if (configured) return this.viewOf(configured);
    const stored = await this.store.getIntegration(id);
    if (!stored) throw this.noIntegration(id);
    return this.storedViewOf(stored);
  }

  async createIntegration(integration: Integration, actor: string): Promise<IntegrationView> {
    if (this.configIntegrations.has(integration.id)) {
      throw new ConflictError(`Integration id "${integration.id}" is taken by an integration from app-config`);
    }
    this.checkInstalled(integration);
    try {
      await this.store.insertIntegration(this.seal(integration), actor);
    } catch (error) {
      if (error instanceof AlreadyStoredError) throw new ConflictError(`Integration id "${integration.id}" is taken`);
      throw error;
    }
    return this.viewOf(integration);
  }

  /**
   * Secrets the request leaves out keep their stored value; `null` removes an optional one. Only
   * the kept ones are decrypted, so a secret that no longer decrypts can be replaced by sending it.
   */
  async updateIntegration(id: string, request: UpdateIntegrationRequest, actor: string): Promise<IntegrationView> {
    if (this.configIntegrations.has(id)) throw readOnly('Integration', id);
    if (request.id !== id) throw new InputError(`body.id: must be "${id}"; an integration cannot be renamed`);
    const current = await this.store.getIntegration(id);
    if (!current) throw this.noIntegration(id);
    if (request.provider !== current.provider) {
      throw new InputError(`body.provider: must stay "${current.provider}"; create a new integration for another IM`);
    }
    const merged: Record<string, unknown> = { ...request };
    for (const field of secretFieldsOf(request.provider)) {
      const kept = current.secrets[field];
      if (merged[field] === undefined && kept) merged[field] = this.reveal(id, field, kept);
      if (merged[field] === null) delete merged[field];
    }
    const parsed = integrationSchema.safeParse(merged);
    if (!parsed.success) throw new InputError(describeZodError(parsed.error, 'body'));
    this.checkInstalled(parsed.data);
    if (!(await this.store.updateIntegration(this.seal(parsed.data), actor))) throw this.noIntegration(id);
    return this.viewOf(parsed.data);
  }

  async deleteIntegration(id: string): Promise<void> {
    if (this.configIntegrations.has(id)) throw readOnly('Integration', id);
    const users = await this.store.templatesUsing(id);
    if (users.length > 0) {
      throw new ConflictError(`Integration "${id}" is used by template(s) ${users.map(n => `"${n}"`).join(', ')}; change or delete them first`);
    }
    if (!(await this.store.deleteIntegration(id))) throw this.noIntegration(id);
  }

  async listTemplates(): Promise<TemplateView[]> {
    const stored = await this.store.listTemplates();
    return [
      ...[...this.configTemplates.values()].sort((a, b) => a.name.localeCompare(b.name)),
      ...stored.map(s => this.parseStored(templateSchema, s.settings, `template "${s.name}"`)),
    ].map(t => this.templateViewOf(t));
  }

  async templateView(name: string): Promise<TemplateView> {
    const template = await this.template(name);
    if (!template) throw this.noTemplate(name);
    return this.templateViewOf(template);
  }

  async createTemplate(template: Template, actor: string): Promise<TemplateView> {
    if (this.configTemplates.has(template.name)) {
      throw new ConflictError(`Template name "${template.name}" is taken by a template from app-config`);
    }
    await this.requireIntegrationFor(template);
    try {
      await this.store.insertTemplate({ name: template.name, integration: template.integration, settings: template }, actor);
    } catch (error) {
      if (error instanceof AlreadyStoredError) throw new ConflictError(`Template name "${template.name}" is taken`);
      throw error;
    }
    return this.templateViewOf(template);
  }

  async updateTemplate(name: string, template: Template, actor: string): Promise<TemplateView> {
    if (this.configTemplates.has(name)) throw readOnly('Template', name);
    if (template.name !== name) throw new InputError(`body.name: must be "${name}"; a template cannot be renamed`);
    await this.requireIntegrationFor(template);
    if (!(await this.store.updateTemplate({ name, integration: template.integration, settings: template }, actor))) {
      throw this.noTemplate(name);
    }
    return this.templateViewOf(template);
  }

  async deleteTemplate(name: string): Promise<void> {
    if (this.configTemplates.has(name)) throw readOnly('Template', name);
    if (!(await this.store.deleteTemplate(name))) throw this.noTemplate(name);
  }

  /** An integration without its secrets, only whether each one is set; editable unless from app-config. */
  private viewOf(integration: Integration | StoredValues): IntegrationView {
    const values = integration as Record<string, unknown>;
    const editable = !this.configIntegrations.has(integration.id);
    return this.parseStored(
      integrationViewSchema,
      {
        ...integration,
        secrets: Object.fromEntries(secretFieldsOf(integration.provider).map(field => [field, values[field] !== undefined])),
        source: editable ? 'database' : 'config',
        editable,
        callbackPath: `/callbacks/${integration.provider}/${integration.id}`,
      },
      `integration "${integration.id}"`,
    );
  }

  /** A stored integration's view: its encrypted secrets stand in for the values they hide. */
  private storedViewOf(stored: StoredIntegration): IntegrationView {
    return this.viewOf({ ...stored.settings, ...stored.secrets, id: stored.id, provider: stored.provider as Integration['provider'] });
  }

  private templateViewOf(template: Template): TemplateView {
    const editable = !this.configTemplates.has(template.name);
    return { ...template, source: editable ? 'database' : 'config', editable };
  }

  /** Splits an integration into settings and encrypted secrets. */
  private seal(integration: Integration): StoredIntegration {
    if (!this.box) throw new ServiceUnavailableError(NO_KEY_MESSAGE);
    const box = this.box;
    const settings: Record<string, unknown> = { ...integration };
    const secrets: StoredIntegration['secrets'] = {};
    for (const field of secretFieldsOf(integration.provider)) {
      const value = settings[field];
      delete settings[field];
      if (typeof value === 'string') secrets[field] = box.encrypt(value, secretLocation(integration.id, field));
    }
    return { id: integration.id, provider: integration.provider, settings, secrets };
  }

  /** Decrypts and validates a stored integration. */
  private open(stored: StoredIntegration): Integration {
    const secrets = Object.fromEntries(
      Object.entries(stored.secrets).map(([field, secret]) => [field, this.reveal(stored.id, field, secret)]),
    );
    return this.parseStored(integrationSchema, { ...stored.settings, ...secrets }, `integration "${stored.id}"`);
  }

  private reveal(integrationId: string, field: string, secret: EncryptedSecret): string {
    if (!this.box) throw new Error(NO_KEY_MESSAGE);
    try {
      return this.box.decrypt(secret, secretLocation(integrationId, field));
    } catch (error) {
      throw new Error(
        `Integration "${integrationId}" secret ${field}: ${(error as Error).message}; enter the ${field} again in the integration's settings`,
      );
    }
  }

  private parseStored<T extends z.ZodType>(schema: T, value: unknown, what: string): z.output<T> {
    const parsed = schema.safeParse(value);
    if (!parsed.success) throw new Error(`The stored ${what} is not valid any more: ${describeZodError(parsed.error)}`);
    return parsed.data;
  }

  private async requireIntegrationFor(template: Template) {
    if (!(await this.integration(template.integration))) {
      throw new InputError(`body.integration: there is no integration "${template.integration}"`);
    }
  }

  private checkInstalled(integration: Integration) {
    try {
      this.clients.check(integration);
    } catch (error) {
      throw new InputError(`body: ${(error as Error).message}`);
    }
  }

  private noIntegration(id: string) {
    return new NotFoundError(`There is no integration "${id}"`);
  }

  private noTemplate(name: string) {
    return new NotFoundError(`There is no template "${name}"`);
  }
}
