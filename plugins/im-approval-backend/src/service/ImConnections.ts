import type { LoggerService } from '@backstage/backend-plugin-api';
import type {
  ConnectionMode,
  Integration,
} from '@im-approval/plugin-im-approval-common';
import type {
  ImConnection,
  ImEventHandler,
} from '@im-approval/plugin-im-approval-node';
import type { ImClients } from './ImClients';

/** Modes in which the backend holds a connection to the IM instead of being called. */
const HELD_MODES: ReadonlySet<ConnectionMode> = new Set([
  'long-connection',
  'stream',
]);

/**
 * The long connections of the integrations that use one (Feishu long connection, DingTalk
 * Stream), opened with the plugin and closed on shutdown. Each replica holds its own; the IM
 * gives each event to one of them, and the decision reaches waiters on every replica through
 * the change bus, as a callback's does.
 */
export class ImConnections {
  private readonly open = new Map<string, ImConnection>();

  constructor(
    private readonly clients: ImClients,
    private readonly logger: LoggerService,
  ) {}

  /** Opens every held connection; fails, naming the integration, when one cannot be opened at all. */
  async start(
    integrations: Integration[],
    onEvents: (integration: Integration) => ImEventHandler,
  ): Promise<void> {
    for (const integration of integrations.filter(i =>
      HELD_MODES.has(i.connectionMode),
    )) {
      const client = this.clients.forIntegration(integration);
      if (!client.connect) {
        throw new Error(
          `Integration "${integration.id}": the ${integration.provider} provider cannot hold a ${integration.connectionMode} connection`,
        );
      }
      this.open.set(
        integration.id,
        await client.connect(onEvents(integration)),
      );
      this.logger.info(
        `Integration ${integration.id} receives ${integration.provider} events over a ${integration.connectionMode} connection`,
      );
    }
  }

  async stop(): Promise<void> {
    const connections = [...this.open.values()];
    this.open.clear();
    await Promise.all(connections.map(connection => connection.close()));
  }
}
