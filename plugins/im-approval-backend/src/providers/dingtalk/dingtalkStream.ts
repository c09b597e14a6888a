import type { LoggerService } from '@backstage/backend-plugin-api';
import type { DingtalkIntegration } from '@im-approval/plugin-im-approval-common';
import type {
  ImCardClickHandler,
  ImConnection,
  ImConnectionObserver,
  ImEventHandler,
} from '@im-approval/plugin-im-approval-node';
import { z } from 'zod';
import { apiUrl, requestJson } from '../api/requestJson';
import { dingtalkApprovalEvent } from './dingtalkCallback';
import {
  DINGTALK_CARD_TOPIC,
  dingtalkCardAnswer,
  parseDingtalkCardClick,
} from './dingtalkCard';

const RECONNECT_MIN_MS = 1_000;
const RECONNECT_MAX_MS = 30_000;

const endpointSchema = z.object({
  endpoint: z.string().min(1),
  ticket: z.string().min(1),
});
const frameSchema = z.object({
  type: z.string(),
  headers: z.looseObject({
    messageId: z.string().optional(),
    topic: z.string().optional(),
    eventType: z.string().optional(),
    eventId: z.string().optional(),
  }),
  data: z.string().optional().default(''),
});
type Frame = z.infer<typeof frameSchema>;

/**
 * A DingTalk Stream connection, for a backend DingTalk cannot call: the documented protocol
 * (the one the official `dingtalk-stream` SDK speaks) over Node's WebSocket, because the SDK's
 * gateway URL is fixed to api.dingtalk.com and it acknowledges an event before its handler has
 * finished. Here an event is acknowledged only after it is applied; a failure answers LATER, so
 * DingTalk pushes it again. The connection is reopened (new ticket) whenever it drops.
 */
class DingtalkStreamConnection implements ImConnection {
  private socket?: WebSocket;
  private closed = false;
  private retryDelay = RECONNECT_MIN_MS;
  private retryTimer?: NodeJS.Timeout;

  constructor(
    private readonly integration: DingtalkIntegration,
    private readonly logger: LoggerService,
    private readonly onEvents: ImEventHandler,
    private readonly observer: ImConnectionObserver,
    private readonly onCardClick?: ImCardClickHandler,
  ) {}

  async open(): Promise<void> {
    if (this.closed) return;
    try {
      const endpoint = await this.openTicket();
      // Closed while the ticket was fetched: a socket opened now would be held by no one.
      if (this.closed) return;
      const socket = new WebSocket(
        `${endpoint.endpoint}?ticket=${encodeURIComponent(endpoint.ticket)}`,
      );
      this.socket = socket;
      // A socket closed or replaced since no longer speaks for the connection.
      const current = () => this.socket === socket;
      socket.addEventListener('open', () => {
        if (!current()) return;
        this.retryDelay = RECONNECT_MIN_MS;
        this.logger.info(
          `DingTalk Stream connected for app ${this.integration.appKey} (integration ${this.integration.id})`,
        );
        this.observer.connected();
      });
      socket.addEventListener('message', message => {
        if (current()) void this.receive(socket, String(message.data));
      });
      socket.addEventListener('close', () => {
        if (current()) this.reopenLater('the connection closed');
      });
      socket.addEventListener('error', () => socket.close());
    } catch (error) {
      this.reopenLater((error as Error).message);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.socket?.close();
    this.socket = undefined;
  }

  private async openTicket() {
    const { status, json } = await requestJson({
      im: 'DingTalk',
      operation: 'open a Stream connection',
      method: 'POST',
      url: apiUrl(this.integration.baseUrl, '/v1.0/gateway/connections/open'),
      body: {
        clientId: this.integration.appKey,
        clientSecret: this.integration.appSecret,
        ua: 'im-approval',
        subscriptions: [
          { type: 'EVENT', topic: '*' },
          // Card clicks come as CALLBACKs of this topic, to connections that ask for them.
          ...(this.onCardClick
            ? [{ type: 'CALLBACK', topic: DINGTALK_CARD_TOPIC }]
            : []),
        ],
      },
    });
    const endpoint = endpointSchema.safeParse(json);
    if (status >= 300 || !endpoint.success) {
      throw new Error(
        `DingTalk refused to open a Stream connection (HTTP ${status}: ${JSON.stringify(json).slice(0, 200)}); check the AppKey, AppSecret and that the app uses Stream mode`,
      );
    }
    return endpoint.data;
  }

  private reopenLater(reason: string) {
    this.socket = undefined;
    if (this.closed) return;
    this.observer.reconnecting(reason);
    // The first failure of an outage is logged; the IM apps page shows the latest.
    const log =
      this.retryDelay === RECONNECT_MIN_MS
        ? this.logger.warn
        : this.logger.debug;
    log.call(
      this.logger,
      `DingTalk Stream for integration ${this.integration.id}: ${reason}; reconnecting in ${this.retryDelay / 1000}s`,
    );
    this.retryTimer = setTimeout(() => void this.open(), this.retryDelay);
    this.retryDelay = Math.min(this.retryDelay * 2, RECONNECT_MAX_MS);
  }

  private async receive(socket: WebSocket, text: string) {
    let frame: Frame;
    try {
      frame = frameSchema.parse(JSON.parse(text));
    } catch {
      this.logger.warn(
        `DingTalk Stream for integration ${this.integration.id}: ignored a frame that is not a Stream message`,
      );
      return;
    }
    if (frame.type === 'SYSTEM') {
      // Answer pings by echoing them; "disconnect" announces a close that reopens through 'close'.
      if (frame.headers.topic === 'ping')
        socket.send(
          JSON.stringify({
            code: 200,
            headers: frame.headers,
            message: 'OK',
            data: frame.data,
          }),
        );
      return;
    }
    if (frame.type === 'CALLBACK' && frame.headers.messageId) {
      await this.answerCallback(socket, frame, frame.headers.messageId);
      return;
    }
    if (frame.type !== 'EVENT' || !frame.headers.messageId) return;
    let event: ReturnType<typeof dingtalkApprovalEvent>;
    try {
      event = dingtalkApprovalEvent(
        frame.headers.eventType ?? '',
        JSON.parse(frame.data || '{}'),
        frame.headers.eventId,
      );
    } catch (error) {
      // Pushing it again would not make it readable: acknowledge it, and the reconciler reads the instance instead.
      this.logger.warn(
        `DingTalk Stream for integration ${this.integration.id}: acknowledged unreadable event ${frame.headers.eventId}: ${(error as Error).message}`,
      );
    }
    let status: 'SUCCESS' | 'LATER' = 'SUCCESS';
    if (event) {
      try {
        await this.onEvents([event]);
      } catch (error) {
        // Not written: DingTalk pushes it again later.
        status = 'LATER';
        this.logger.warn(
          `DingTalk Stream for integration ${this.integration.id}: could not apply event ${frame.headers.eventId}: ${(error as Error).message}`,
        );
      }
    }
    this.answer(socket, frame.headers.messageId, { status });
  }

  /**
   * A card click: decided (or refused) before DingTalk hears back, within its 2 s. A callback that
   * is not a click on one of the backend's cards is answered empty, so it is not pushed again.
   */
  private async answerCallback(
    socket: WebSocket,
    frame: Frame,
    messageId: string,
  ) {
    const click =
      frame.headers.topic === DINGTALK_CARD_TOPIC
        ? parseDingtalkCardClick(frame.data, messageId)
        : undefined;
    let response: object = {};
    if (click && this.onCardClick) {
      try {
        response = dingtalkCardAnswer(await this.onCardClick(click));
      } catch (error) {
        this.logger.warn(
          `DingTalk Stream for integration ${this.integration.id}: card click on approval ${click.approvalId} failed: ${(error as Error).message}`,
        );
        response = dingtalkCardAnswer({
          toast: {
            kind: 'error',
            text: 'Not recorded: the approval service failed; try again.',
          },
        });
      }
    }
    this.answer(socket, messageId, { response });
  }

  private answer(socket: WebSocket, messageId: string, data: object) {
    if (socket.readyState !== WebSocket.OPEN) return;
    socket.send(
      JSON.stringify({
        code: 200,
        headers: { contentType: 'application/json', messageId },
        message: 'OK',
        data: JSON.stringify(data),
      }),
    );
  }
}

/** Opens the integration's Stream connection; it keeps reconnecting until closed. */
export async function openDingtalkStream(
  integration: DingtalkIntegration,
  logger: LoggerService,
  onEvents: ImEventHandler,
  observer: ImConnectionObserver,
  onCardClick?: ImCardClickHandler,
): Promise<ImConnection> {
  const connection = new DingtalkStreamConnection(
    integration,
    logger,
    onEvents,
    observer,
    onCardClick,
  );
  await connection.open();
  return connection;
}
