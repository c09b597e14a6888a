import {
  ConflictError,
  InputError,
  NotFoundError,
  ServiceUnavailableError,
} from '@backstage/errors';
import {
  describeZodError,
  integrationSchema,
  integrationViewSchema,
  secretFieldsOf,
  type Integration,
  type IntegrationView,
  type ProviderId,
  type UpdateIntegrationRequest,
} from '@im-approval/plugin-im-approval-common';
import { isDeepStrictEqual } from 'node:util';
import {
  AlreadyStoredError,
  type DatabaseSettingsStore,
  type StoredIntegration,
} from '../database/DatabaseSettingsStore';
import type { ImClients } from '../service/ImClients';
import type { CurrentIntegrations } from '../service/ImConnections';
import type { EncryptedSecret, SecretBox } from './SecretBox';
import { parseStored, readOnly } from './storedSettings';

/** A stored integration's settings with its secret fields present (their values still encrypted). */
type StoredValues = Record<string, unknown> &
  Pick<Integration, 'id' | 'provider'>;

export const NO_KEY_MESSAGE =
  'Integrations managed in Backstage need a key to encrypt their secrets: set imApproval.secretsKey in app-config';

/** Where each provider sends an app's secrets, as a parsed integration holds it (Feishu's domain or baseUrl become apiBaseUrl). */
const ENDPOINT_FIELDS = {
  feishu: ['apiBaseUrl'],
  dingtalk: ['baseUrl', 'legacyBaseUrl'],
  wecom: ['baseUrl'],
} as const satisfies {
  [P in ProviderId]: ReadonlyArray<keyof Extract<Integration, { provider: P }>>;
};

/** The URLs an integration's secrets are sent to. */
export function endpointsOf(integration: Integration): string[] {
  const values = integration as unknown as Record<string, string>;
  return ENDPOINT_FIELDS[integration.provider].map(field => values[field]);
}

/** Where a secret of an integration is stored; bound into its ciphertext. */
export const secretLocation = (integrationId: string, field: string) =>
  `${integrationId}/${field}`;

/**
 * IM apps from app-config (read-only) and from the database (managed through the API), their
 * secrets encrypted at rest and never in a view. Reads go to the database every time, so every
 * replica uses a change at once.
 */
export class IntegrationSettings {
  private readonly config: Map<string, Integration>;
  private readonly changeListeners: Array<(id: string) => void> = [];

  constructor(
    config: Integration[],
    private readonly store: DatabaseSettingsStore,
    private readonly clients: ImClients,
    /** Absent when no secrets key is configured: database-managed integrations cannot be written then. */
    private readonly box?: SecretBox,
  ) {
    this.config = new Map(config.map(i => [i.id, i]));
  }

  /** Whether integrations can be written to the database (a secrets key is configured). */
  get writable(): boolean {
    return this.box !== undefined;
  }

  /** The integration with its secrets, for talking to its IM. */
  async get(id: string): Promise<Integration | undefined> {
    const configured = this.config.get(id);
    if (configured) return configured;
    const stored = await this.store.getIntegration(id);
    return stored && this.open(stored);
  }

  /**
   * Every integration, secrets included (app-config's first, then the database's), and why each
   * stored one that no longer opens cannot: one broken app must not keep the others' connections shut.
   */
  async current(): Promise<CurrentIntegrations> {
    const stored = await this.store.listIntegrations();
    const current: CurrentIntegrations = {
      integrations: [...this.config.values()],
      unreadable: [],
    };
    for (const s of stored) {
      try {
        current.integrations.push(this.open(s));
      } catch (error) {
        current.unreadable.push({
          id: s.id,
          message: (error as Error).message,
        });
      }
    }
    return current;
  }

  /** Hears of every integration this replica creates, changes or deletes, once it is stored. */
  onChanged(listener: (id: string) => void) {
    this.changeListeners.push(listener);
  }

  /** Views need only whether each secret is set, so stored secrets are not decrypted for them. */
  async list(): Promise<IntegrationView[]> {
    const stored = await this.store.listIntegrations();
    return [
      ...[...this.config.values()]
        .sort((a, b) => a.id.localeCompare(b.id))
        .map(i => this.viewOf(i)),
      ...stored.map(s => this.storedViewOf(s)),
    ];
  }

  async view(id: string): Promise<IntegrationView> {
    const configured = this.config.get(id);
    if (configured) return this.viewOf(configured);
    const stored = await this.store.getIntegration(id);
    if (!stored) throw noIntegration(id);
    return this.storedViewOf(stored);
  }

  async create(
    integration: Integration,
    actor: string,
  ): Promise<IntegrationView> {
    if (this.config.has(integration.id)) {
      throw new ConflictError(
        `Integration id "${integration.id}" is taken by an integration from app-config`,
      );
    }
    this.checkInstalled(integration);
    try {
      await this.store.insertIntegration(this.seal(integration), actor);
    } catch (error) {
      if (error instanceof AlreadyStoredError)
        throw new ConflictError(`Integration id "${integration.id}" is taken`);
      throw error;
    }
    this.changed(integration.id);
    return this.viewOf(integration);
  }

  /** Secrets the request leaves out keep their stored value (`merge`). */
  async update(
    id: string,
    request: UpdateIntegrationRequest,
    actor: string,
  ): Promise<IntegrationView> {
    if (this.config.has(id)) throw readOnly('Integration', id);
    if (request.id !== id)
      throw new InputError(
        `body.id: must be "${id}"; an integration cannot be renamed`,
      );
    const current = await this.store.getIntegration(id);
    if (!current) throw noIntegration(id);
    if (request.provider !== current.provider) {
      throw new InputError(
        `body.provider: must stay "${current.provider}"; create a new integration for another IM`,
      );
    }
    const { integration } = this.merge(request, current);
    this.checkInstalled(integration);
    if (!(await this.store.updateIntegration(this.seal(integration), actor)))
      throw noIntegration(id);
    this.changed(id);
    return this.viewOf(integration);
  }

  /**
   * Settings as the IM app form holds them, to test before saving; nothing is stored. A secret left
   * out is lent from the database app being edited, as an update would keep it, but only to the URLs
   * that app uses: stored secrets must not go to a host the caller picks. App-config's are never lent.
   */
  async unsaved(request: UpdateIntegrationRequest): Promise<Integration> {
    const stored = this.config.has(request.id)
      ? undefined
      : await this.store.getIntegration(request.id);
    const saved = stored?.provider === request.provider ? stored : undefined;
    const { integration, kept } = this.merge(request, saved);
    if (saved && kept.length > 0) {
      const urls = endpointsOf(integration);
      const savedUrls = ENDPOINT_FIELDS[integration.provider].map(
        field => saved.settings[field],
      );
      if (!isDeepStrictEqual(urls, savedUrls))
        throw new InputError(
          `body: the saved app's ${kept.join(', ')} ${kept.length > 1 ? 'are' : 'is'} sent only to its own URL (${savedUrls.join(', ')}); re-enter ${kept.join(', ')} to test against another URL (${urls.join(', ')})`,
        );
    }
    return integration;
  }

  async delete(id: string): Promise<void> {
    if (this.config.has(id)) throw readOnly('Integration', id);
    const users = await this.store.templatesUsing(id);
    if (users.length > 0) {
      throw new ConflictError(
        `Integration "${id}" is used by template(s) ${users.map(n => `"${n}"`).join(', ')}; change or delete them first`,
      );
    }
    if (!(await this.store.deleteIntegration(id))) throw noIntegration(id);
    this.changed(id);
  }

  /**
   * The request with the secrets it leaves out taken from `stored`; `null` removes an optional one.
   * Only the kept ones are decrypted, so a secret that no longer decrypts can be replaced by sending it.
   */
  private merge(
    request: UpdateIntegrationRequest,
    stored?: StoredIntegration,
  ): { integration: Integration; kept: string[] } {
    const merged: Record<string, unknown> = { ...request };
    const kept: string[] = [];
    for (const field of secretFieldsOf(request.provider)) {
      const secret = stored?.secrets[field];
      if (merged[field] === undefined && secret) {
        try {
          merged[field] = this.reveal(request.id, field, secret);
        } catch {
          throw new InputError(
            `body.${field}: the stored value cannot be read with the current imApproval.secretsKey; enter it again`,
          );
        }
        kept.push(field);
      }
      if (merged[field] === null) delete merged[field];
    }
    const parsed = integrationSchema.safeParse(merged);
    if (!parsed.success)
      throw new InputError(describeZodError(parsed.error, 'body'));
    return { integration: parsed.data, kept };
  }

  /** Decrypts and validates a stored integration; throws, naming it, when it no longer can be. */
  open(stored: StoredIntegration): Integration {
    const secrets = Object.fromEntries(
      Object.entries(stored.secrets).map(([field, secret]) => [
        field,
        this.reveal(stored.id, field, secret),
      ]),
    );
    return parseStored(
      integrationSchema,
      { ...stored.settings, ...secrets },
      `integration "${stored.id}"`,
    );
  }

  /** An integration without its secrets, only whether each one is set; editable unless from app-config. */
  private viewOf(integration: Integration | StoredValues): IntegrationView {
    const values = integration as Record<string, unknown>;
    const editable = !this.config.has(integration.id);
    return parseStored(
      integrationViewSchema,
      {
        ...integration,
        secrets: Object.fromEntries(
          secretFieldsOf(integration.provider).map(field => [
            field,
            values[field] !== undefined,
          ]),
        ),
        source: editable ? 'database' : 'config',
        editable,
        callbackPath: `/callbacks/${integration.provider}/${integration.id}`,
      },
      `integration "${integration.id}"`,
    );
  }

  /** A stored integration's view: its encrypted secrets stand in for the values they hide. */
  private storedViewOf(stored: StoredIntegration): IntegrationView {
    return this.viewOf({
      ...stored.settings,
      ...stored.secrets,
      id: stored.id,
      provider: stored.provider as Integration['provider'],
    });
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
      if (typeof value === 'string')
        secrets[field] = box.encrypt(
          value,
          secretLocation(integration.id, field),
        );
    }
    return {
      id: integration.id,
      provider: integration.provider,
      settings,
      secrets,
    };
  }

  private reveal(
    integrationId: string,
    field: string,
    secret: EncryptedSecret,
  ): string {
    // A conflict with how the app was stored, not a server fault: entering the secret again mends it.
    if (!this.box) throw new ConflictError(NO_KEY_MESSAGE);
    try {
      return this.box.decrypt(secret, secretLocation(integrationId, field));
    } catch (error) {
      throw new ConflictError(
        `Integration "${integrationId}" secret ${field}: ${(error as Error).message}; enter the ${field} again in the integration's settings`,
      );
    }
  }

  private changed(id: string) {
    for (const listener of this.changeListeners) listener(id);
  }

  private checkInstalled(integration: Integration) {
    try {
      this.clients.check(integration);
    } catch (error) {
      throw new InputError(`body: ${(error as Error).message}`);
    }
  }
}

function noIntegration(id: string) {
  return new NotFoundError(`There is no integration "${id}"`);
}
