import type { LoggerService } from '@backstage/backend-plugin-api';
import {
  ConflictError,
  InputError,
  NotFoundError,
  ServiceUnavailableError,
} from '@backstage/errors';
import {
  gateSchema,
  type Gate,
  type GateView,
  type GithubAppView,
} from '@im-approval/plugin-im-approval-common';
import type { z } from 'zod';
import type { githubAppRequestSchema } from '@im-approval/plugin-im-approval-common';
import { createHash } from 'node:crypto';
import { AlreadyStoredError } from '../database/DatabaseSettingsStore';
import type {
  DatabaseGithubSettingsStore,
  StoredGithubApp,
} from '../database/DatabaseGithubSettingsStore';
import {
  GithubAppClient,
  type GithubAppSettings,
} from '../github/GithubAppClient';
import type { SecretBox } from './SecretBox';
import { parseStored } from './storedSettings';

type GithubAppRequest = z.output<typeof githubAppRequestSchema>;

const NO_KEY =
  'A GitHub App saved in Backstage needs a key to encrypt its private key and webhook secret: set imApproval.secretsKey in app-config';
const SECRET_FIELDS = ['privateKey', 'webhookSecret'] as const;
/** Where each secret is stored; bound into its ciphertext. */
const location = (field: (typeof SECRET_FIELDS)[number]) =>
  `github-app:${field}`;

/**
 * The GitHub App and the deployment gates, from app-config (read-only) and from the database
 * (managed through the API). An App in app-config wins; gates match app-config's first, in order,
 * then the stored ones by name.
 */
export class GithubSettings {
  private readonly configGates: Map<string, Gate>;
  private current?: { fingerprint: string; client: GithubAppClient };

  constructor(
    private readonly options: {
      configApp?: GithubAppSettings;
      configGates: Gate[];
      store: DatabaseGithubSettingsStore;
      /** Absent when no secrets key is configured. */
      box?: SecretBox;
      /** Whether a template exists, so a gate never names a missing one. */
      templateExists: (name: string) => Promise<boolean>;
    },
  ) {
    this.configGates = new Map(options.configGates.map(g => [g.name, g]));
  }

  /** Refuses to start when the stored App's secrets open with no configured key; re-encrypts older ones with the current key. */
  async open(logger: LoggerService) {
    const { store, box } = this.options;
    const stored = await store.getApp();
    if (!stored) return;
    if (!box)
      throw new Error(
        'The database holds the GitHub App saved in Backstage, but imApproval.secretsKey is not configured: add the key it was encrypted with',
      );
    const stale = SECRET_FIELDS.filter(
      field => stored[field].keyId !== box.currentKeyId,
    );
    if (stale.length === 0) return;
    const decrypted = this.decrypt(stored);
    await store.putApp(
      this.encrypt(stored, decrypted.privateKey, decrypted.webhookSecret),
      'im-approval:key-rotation',
    );
    logger.info(
      `Re-encrypted the GitHub App's secrets with key "${box.currentKeyId}"`,
    );
  }

  async gates(): Promise<Gate[]> {
    return (await this.gateViews()).map(
      ({ source: _source, editable: _editable, ...gate }) => gate,
    );
  }

  async gateViews(): Promise<GateView[]> {
    const stored = await this.options.store.listGates();
    return [
      ...[...this.configGates.values()].map(gate => ({
        ...gate,
        source: 'config' as const,
        editable: false,
      })),
      ...stored.map(({ name, settings }) => ({
        ...parseStored(gateSchema, settings, `gate "${name}"`),
        source: 'database' as const,
        editable: true,
      })),
    ];
  }

  async createGate(gate: Gate, actor: string): Promise<GateView> {
    if (this.configGates.has(gate.name))
      throw new ConflictError(
        `Gate name "${gate.name}" is taken by a gate from app-config`,
      );
    await this.requireTemplate(gate);
    try {
      await this.options.store.insertGate(gate.name, gate, actor);
    } catch (error) {
      if (error instanceof AlreadyStoredError)
        throw new ConflictError(`Gate name "${gate.name}" is taken`);
      throw error;
    }
    return { ...gate, source: 'database', editable: true };
  }

  async updateGate(name: string, gate: Gate, actor: string): Promise<GateView> {
    if (this.configGates.has(name)) throw readOnlyGate(name);
    if (gate.name !== name)
      throw new InputError(
        `body.name: must be "${name}"; a gate cannot be renamed`,
      );
    await this.requireTemplate(gate);
    if (!(await this.options.store.updateGate(name, gate, actor)))
      throw noGate(name);
    return { ...gate, source: 'database', editable: true };
  }

  async deleteGate(name: string) {
    if (this.configGates.has(name)) throw readOnlyGate(name);
    if (!(await this.options.store.deleteGate(name))) throw noGate(name);
  }

  /** Whether an App may be saved here: none in app-config, and a key to encrypt its secrets. */
  get appEditable(): boolean {
    return !this.options.configApp && Boolean(this.options.box);
  }

  async app(): Promise<GithubAppSettings | undefined> {
    if (this.options.configApp) return this.options.configApp;
    const stored = await this.options.store.getApp();
    if (!stored || !this.options.box) return undefined;
    return {
      appId: stored.appId,
      apiBaseUrl: stored.apiBaseUrl,
      ...this.decrypt(stored),
    };
  }

  async appView(): Promise<GithubAppView | null> {
    const { configApp, store } = this.options;
    const app = configApp ?? (await store.getApp());
    if (!app) return null;
    return {
      source: configApp ? 'config' : 'database',
      editable: !configApp,
      appId: app.appId,
      apiBaseUrl: app.apiBaseUrl,
    };
  }

  async saveApp(
    request: GithubAppRequest,
    actor: string,
  ): Promise<GithubAppView> {
    if (this.options.configApp)
      throw new ConflictError(
        'The GitHub App comes from app-config (imApproval.github.app) and is read-only; change it there',
      );
    if (!this.options.box) throw new ServiceUnavailableError(NO_KEY);
    const stored = await this.options.store.getApp();
    const kept = stored && this.decrypt(stored);
    const privateKey = request.privateKey ?? kept?.privateKey;
    const webhookSecret = request.webhookSecret ?? kept?.webhookSecret;
    if (!privateKey)
      throw new InputError('body.privateKey: required the first time');
    if (!webhookSecret)
      throw new InputError('body.webhookSecret: required the first time');
    await this.options.store.putApp(
      this.encrypt(
        { appId: request.appId, apiBaseUrl: request.apiBaseUrl },
        privateKey,
        webhookSecret,
      ),
      actor,
    );
    return {
      source: 'database',
      editable: true,
      appId: request.appId,
      apiBaseUrl: request.apiBaseUrl,
    };
  }

  async deleteApp() {
    if (this.options.configApp)
      throw new ConflictError(
        'The GitHub App comes from app-config (imApproval.github.app) and is read-only; change it there',
      );
    if (!(await this.options.store.deleteApp()))
      throw new NotFoundError('No GitHub App is saved in Backstage');
  }

  /** The client for the App as it is now; the same one (and its token cache) while the App is unchanged. */
  async client(): Promise<GithubAppClient | undefined> {
    const app = await this.app();
    if (!app) return undefined;
    const fingerprint = createHash('sha256')
      .update(JSON.stringify([app.appId, app.apiBaseUrl, app.privateKey]))
      .digest('hex');
    if (this.current?.fingerprint !== fingerprint)
      this.current = { fingerprint, client: new GithubAppClient(app) };
    return this.current.client;
  }

  private async requireTemplate(gate: Gate) {
    if (!(await this.options.templateExists(gate.template)))
      throw new InputError(
        `body.template: there is no template named "${gate.template}"`,
      );
  }

  private decrypt(stored: StoredGithubApp) {
    const box = this.options.box!;
    return {
      privateKey: box.decrypt(stored.privateKey, location('privateKey')),
      webhookSecret: box.decrypt(
        stored.webhookSecret,
        location('webhookSecret'),
      ),
    };
  }

  private encrypt(
    app: Pick<StoredGithubApp, 'appId' | 'apiBaseUrl'>,
    privateKey: string,
    webhookSecret: string,
  ): StoredGithubApp {
    const box = this.options.box!;
    return {
      appId: app.appId,
      apiBaseUrl: app.apiBaseUrl,
      privateKey: box.encrypt(privateKey, location('privateKey')),
      webhookSecret: box.encrypt(webhookSecret, location('webhookSecret')),
    };
  }
}

function noGate(name: string) {
  return new NotFoundError(`There is no gate "${name}"`);
}

function readOnlyGate(name: string) {
  return new ConflictError(
    `Gate "${name}" comes from app-config and is read-only; change it there`,
  );
}
