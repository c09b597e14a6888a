import { InputError, NotFoundError } from '@backstage/errors';
import {
  describeZodError,
  integrationSchema,
  secretFieldsOf,
  type FormDescription,
  type Integration,
  type IntegrationTestResult,
  type UpdateIntegrationRequest,
} from '@im-approval/plugin-im-approval-common';
import {
  ImApiError,
  type ImClient,
} from '@im-approval/plugin-im-approval-node';
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
    return this.verify(integration, this.clients.forIntegration(integration));
  }

  /**
   * Tests settings as a form holds them, before they are saved; nothing is stored. A secret left
   * out is taken from `saved` (the database app being edited, as an update would keep it), or
   * else is missing; `null` leaves an optional one out.
   */
  async testUnsaved(
    request: UpdateIntegrationRequest,
    saved?: Integration,
  ): Promise<IntegrationTestResult> {
    const merged: Record<string, unknown> = { ...request };
    const kept: Record<string, unknown> =
      saved?.provider === request.provider ? saved : {};
    for (const field of secretFieldsOf(request.provider)) {
      if (merged[field] === undefined) merged[field] = kept[field];
      if (merged[field] === null) delete merged[field];
    }
    const parsed = integrationSchema.safeParse(merged);
    if (!parsed.success)
      throw new InputError(describeZodError(parsed.error, 'body'));
    let client: ImClient;
    try {
      client = this.clients.forUnsaved(parsed.data);
    } catch (error) {
      throw new InputError(`body: ${(error as Error).message}`);
    }
    return this.verify(parsed.data, client);
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
