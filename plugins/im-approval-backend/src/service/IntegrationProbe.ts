import { NotFoundError } from '@backstage/errors';
import type {
  FormDescription,
  Integration,
  IntegrationTestResult,
} from '@im-approval/plugin-im-approval-common';
import { ImApiError } from '@im-approval/plugin-im-approval-node';
import type { ImClients } from './ImClients';
import type { SettingsSource } from './SettingsSource';

/** Asks an integration's IM whether its settings work, and what its forms look like. */
export class IntegrationProbe {
  constructor(
    private readonly settings: SettingsSource,
    private readonly clients: ImClients,
  ) {}

  /** Fetches a fresh token. A refusal is a result, not an error: it says what to fix. */
  async test(id: string): Promise<IntegrationTestResult> {
    const integration = await this.require(id);
    const started = performance.now();
    const durationMs = () => Math.round(performance.now() - started);
    try {
      await this.clients.forIntegration(integration).verifyCredentials();
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
        message: error.message,
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
