import type { Integration } from '@im-approval/plugin-im-approval-common';
import type {
  ImClient,
  ImProvider,
  ImProviderDeps,
} from '@im-approval/plugin-im-approval-node';
import { isDeepStrictEqual } from 'node:util';

/**
 * One client per integration, so each IM app keeps its own token cache. A client is replaced as
 * soon as its integration's settings differ from those it was made with (an edit in the UI, on
 * this replica or another), so it never keeps using an old secret or URL.
 */
export class ImClients {
  private readonly clients = new Map<
    string,
    { integration: Integration; client: ImClient }
  >();

  constructor(
    private readonly providers: Map<string, ImProvider>,
    private readonly deps: ImProviderDeps,
  ) {}

  /** Fails at start-up, naming the integration, when a provider or connection mode is not available. */
  check(integration: Integration): void {
    const provider = this.providers.get(integration.provider);
    if (!provider)
      throw new Error(
        `Integration "${integration.id}": no provider "${integration.provider}" is installed`,
      );
    if (!provider.connectionModes.includes(integration.connectionMode)) {
      throw new Error(
        `Integration "${integration.id}": ${integration.provider} does not support connection mode "${integration.connectionMode}" ` +
          `(supported: ${provider.connectionModes.join(', ')})`,
      );
    }
  }

  /** How many instances of this integration the reconciler may read in one pass of `intervalSeconds`. */
  readsPerPass(integration: Integration, intervalSeconds: number): number {
    const perMinute = this.providers.get(
      integration.provider,
    )?.reconcileReadsPerMinute;
    return perMinute === undefined
      ? Infinity
      : Math.max(1, Math.floor((perMinute * intervalSeconds) / 60));
  }

  /** How many instances of this integration the reconciler may read in any one second. */
  readsPerSecond(integration: Integration): number {
    return (
      this.providers.get(integration.provider)?.reconcileReadsPerSecond ??
      Infinity
    );
  }

  /** Why this integration cannot post group chat cards, naming what to change; undefined when it can. */
  cardsUnavailable(integration: Integration): string | undefined {
    const provider = this.providers.get(integration.provider);
    if (!provider?.cards)
      return `cards in group chats are not built for ${integration.provider}`;
    return provider.cardsNeed?.(integration);
  }

  /** A client for settings not saved yet: never cached, so it cannot replace the saved app's client. */
  forUnsaved(integration: Integration): ImClient {
    this.check(integration);
    return this.providers
      .get(integration.provider)!
      .createClient(integration, this.deps);
  }

  forIntegration(integration: Integration): ImClient {
    const cached = this.clients.get(integration.id);
    if (cached && isDeepStrictEqual(cached.integration, integration))
      return cached.client;
    this.check(integration);
    const client = this.providers
      .get(integration.provider)!
      .createClient(integration, this.deps);
    this.clients.set(integration.id, { integration, client });
    return client;
  }
}
