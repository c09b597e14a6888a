import type { LoggerService } from '@backstage/backend-plugin-api';
import type { FeishuIntegration } from '@im-approval/plugin-im-approval-common';
import type {
  ImConnection,
  ImConnectionObserver,
  ImEventHandler,
} from '@im-approval/plugin-im-approval-node';
import type { Logger } from '@larksuiteoapi/node-sdk';
import { z } from 'zod';
import { feishuApprovalEvent } from './feishuCallback';

/**
 * Feishu's SDK, loaded by the first long connection: it costs about 18 MB of heap, which a backend
 * taking Feishu's callbacks, or no Feishu at all, need not carry. (A `require`: jest's module
 * registry refuses a dynamic import.)
 */
function larkSdk(): typeof import('@larksuiteoapi/node-sdk') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('@larksuiteoapi/node-sdk');
}

/** The SDK's WSClient silently refuses other app ids; say so at start-up instead. */
const SELF_BUILT_APP_ID = /^cli_[0-9a-fA-F]{16}$/;

/** A v1 approval event as the SDK's dispatcher hands it over: the event's fields beside the envelope's. */
const dispatchedEventSchema = z.looseObject({
  uuid: z.string().min(1),
  instance_code: z.string().min(1),
});

function sdkLogger(logger: LoggerService): Logger {
  const text = (parts: unknown[]) =>
    parts
      .map(part => (typeof part === 'string' ? part : JSON.stringify(part)))
      .join(' ');
  return {
    error: (...parts) => logger.error(text(parts)),
    warn: (...parts) => logger.warn(text(parts)),
    info: (...parts) => logger.info(text(parts)),
    debug: (...parts) => logger.debug(text(parts)),
    trace: () => undefined,
  };
}

/**
 * Holds the Feishu long connection of a self-built app through the official SDK's `WSClient`.
 * The SDK acknowledges an event with the handler's outcome once the handler resolves, so an event
 * is acknowledged only after it is applied; a failure is answered with an error and redelivered.
 */
export async function openFeishuLongConnection(
  integration: FeishuIntegration,
  logger: LoggerService,
  onEvents: ImEventHandler,
  observer: ImConnectionObserver,
): Promise<ImConnection> {
  if (!SELF_BUILT_APP_ID.test(integration.appId)) {
    throw new Error(
      `Integration "${integration.id}": Feishu long connections are only for self-built apps, whose App ID looks like cli_ and 16 hex digits (got ${integration.appId})`,
    );
  }
  const { EventDispatcher, LoggerLevel, WSClient } = larkSdk();
  const sdk = sdkLogger(logger.child({ integration: integration.id }));
  const apply = async (event: string, data: unknown) => {
    const parsed = dispatchedEventSchema.safeParse(data);
    const approvalEvent =
      parsed.success &&
      feishuApprovalEvent(parsed.data.uuid, {
        type: event,
        instance_code: parsed.data.instance_code,
      });
    if (approvalEvent) await onEvents([approvalEvent]);
  };
  const dispatcher = new EventDispatcher({
    logger: sdk,
    loggerLevel: LoggerLevel.warn,
  }).register({
    approval_instance: (data: unknown) => apply('approval_instance', data),
    approval_task: (data: unknown) => apply('approval_task', data),
  });
  const client = new WSClient({
    appId: integration.appId,
    appSecret: integration.appSecret,
    domain: integration.apiBaseUrl,
    logger: sdk,
    loggerLevel: LoggerLevel.warn,
    autoReconnect: true,
    onReady: () => {
      logger.info(
        `Feishu long connection open for app ${integration.appId} (integration ${integration.id})`,
      );
      observer.connected();
    },
    onReconnecting: () => observer.reconnecting('the long connection dropped'),
    onReconnected: () => {
      logger.info(
        `Feishu long connection re-established for integration ${integration.id}`,
      );
      observer.connected();
    },
    // Logged by whoever holds the connection, which reopens it later.
    onError: error =>
      observer.failed(`the SDK gave up reconnecting: ${error.message}`),
  });
  await client.start({ eventDispatcher: dispatcher });
  return {
    close: async () => client.close({ force: true }),
  };
}
