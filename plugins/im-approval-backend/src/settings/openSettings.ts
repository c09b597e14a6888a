import type { LoggerService } from '@backstage/backend-plugin-api';
import type {
  Integration,
  Template,
} from '@im-approval/plugin-im-approval-common';
import type { DatabaseManagedFormStore } from '../database/DatabaseManagedFormStore';
import type { DatabaseSettingsStore } from '../database/DatabaseSettingsStore';
import { ManagedForms } from '../forms/ManagedForms';
import type { ImClients } from '../service/ImClients';
import type { SettingsSource } from '../service/SettingsSource';
import { IntegrationSettings, secretLocation } from './IntegrationSettings';
import type { SecretBox } from './SecretBox';
import { TemplateSettings } from './TemplateSettings';

export interface OpenSettingsOptions {
  config: { integrations: Integration[]; templates: Template[] };
  store: DatabaseSettingsStore;
  forms: DatabaseManagedFormStore;
  /** Absent when no secrets key is configured. */
  box?: SecretBox;
  clients: ImClients;
  logger: LoggerService;
}

export interface Settings {
  integrations: IntegrationSettings;
  templates: TemplateSettings;
  /** What the approval flow reads. */
  source: SettingsSource;
}

/**
 * The start-up checks, then the settings: refuses to start when the database holds secrets no
 * configured key can open, or an id or name that app-config uses too; re-encrypts secrets under
 * older keys with the current one; warns about stored integrations that no longer validate.
 */
export async function openSettings(
  options: OpenSettingsOptions,
): Promise<Settings> {
  const { store, box, logger, config } = options;
  await rotateSecrets(store, box, logger);

  const [storedIntegrations, storedTemplates] = await Promise.all([
    store.listIntegrations(),
    store.listTemplates(),
  ]);
  const configIds = new Set(config.integrations.map(i => i.id));
  const configNames = new Set(config.templates.map(t => t.name));
  const clash =
    storedIntegrations.find(i => configIds.has(i.id))?.id ??
    storedTemplates.find(t => configNames.has(t.name))?.name;
  if (clash) {
    throw new Error(
      `"${clash}" is defined both in app-config and in the database; ids and names must be unique: rename or remove one`,
    );
  }

  const integrations = new IntegrationSettings(
    config.integrations,
    store,
    options.clients,
    box,
  );
  const forms = new ManagedForms({
    store: options.forms,
    client: integration => options.clients.forIntegration(integration),
    integration: id => integrations.get(id),
    logger,
  });
  const templates = new TemplateSettings(
    config.templates,
    store,
    integrations,
    options.clients,
    forms,
  );
  // An integration saved under older rules (say, Feishu callbacks without an Encrypt Key) stays
  // stored, but is refused wherever it is used until someone edits it: say so now.
  for (const stored of storedIntegrations) {
    try {
      integrations.open(stored);
    } catch (error) {
      logger.warn(
        `${(error as Error).message}; edit it on the IM apps page (approvals through it fail until then)`,
      );
    }
  }
  return {
    integrations,
    templates,
    source: {
      integration: id => integrations.get(id),
      template: name => templates.get(name),
      formOf: template => forms.formIdFor(template),
    },
  };
}

async function rotateSecrets(
  store: DatabaseSettingsStore,
  box: SecretBox | undefined,
  logger: LoggerService,
) {
  const secrets = await store.listSecrets();
  if (secrets.length > 0 && !box) {
    throw new Error(
      `The database holds ${secrets.length} encrypted secret(s) of integrations managed in Backstage, ` +
        'but imApproval.secretsKey is not configured: add the key they were encrypted with',
    );
  }
  const unknownKeys = [
    ...new Set(secrets.map(s => s.keyId).filter(id => !box!.hasKey(id))),
  ];
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
  if (rotated > 0)
    logger.info(
      `Re-encrypted ${rotated} integration secret(s) with key "${box!.currentKeyId}"`,
    );
}
