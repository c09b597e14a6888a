import { InputError, NotFoundError } from '@backstage/errors';
import type {
  FormDescription,
  Integration,
  IntegrationTestResult,
} from '@im-approval/plugin-im-approval-common';
import {
  ImApiError,
  type ImClient,
} from '@im-approval/plugin-im-approval-node';
import type { ImClients } from './ImClients';
import type { SettingsSource } from './SettingsSource';
import { withoutSecrets } from './withoutSecrets';

/** Asks an integration's IM whether its settings work, and what its forms look like. */
export class IntegrationProbe {
  constructor(
    private readonly settings: SettingsSource,
    private readonly clients: ImClients,
  ) {}

  /** Fetches a fresh token. A refusal is a result, not an error: it says what to fix. */
  async test(id: string): Promise<IntegrationTestResult> {
    const integration = await this.require(id);
    return this.verify(integration, this.clients.forIntegration(integration));
  }

  /** Tests settings as a form holds them (`IntegrationSettings.unsaved`), before they are saved. */
  async testUnsaved(integration: Integration): Promise<IntegrationTestResult> {
    let client: ImClient;
    try {
      client = this.clients.forUnsaved(integration);
    } catch (error) {
      throw new InputError(`body: ${(error as Error).message}`);
    }
    return this.verify(integration, client);
  }

  private async verify(
    integration: Integration,
    client: ImClient,
  ): Promise<IntegrationTestResult> {
    const started = performance.now();
    const durationMs = () => Math.round(performance.now() - started);
    try {
      await client.verifyCredentials();
      return {
        ok: true,
        message: `Connected: ${integration.provider} accepted the app's credentials`,
        durationMs: durationMs(),
      };
    } catch (error) {
      if (!(error instanceof ImApiError)) throw error;
      return {
        ok: false,
        problem: error.kind,
        message: withoutSecrets(integration, error.message),
        ...(error.code === undefined ? {} : { code: error.code }),
        durationMs: durationMs(),
      };
    }
  }

  async describeForm(id: string, formId: string): Promise<FormDescription> {
    const integration = await this.require(id);
    const fields = await this.clients
      .forIntegration(integration)
      .describeForm(formId);
    return { integration: id, form: formId, fields };
  }

  private async require(id: string): Promise<Integration> {
    const integration = await this.settings.integration(id);
    if (!integration)
      throw new NotFoundError(`There is no integration "${id}"`);
    return integration;
  }
}
