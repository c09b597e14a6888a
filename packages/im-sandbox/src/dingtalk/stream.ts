import { randomUUID } from 'node:crypto';
import express, { Router } from 'express';
import type { WebSocket } from 'ws';
import { z } from 'zod';
import type { LongConnections } from '../delivery/longConnections';
import { Tickets, type WebSocketRoute } from '../delivery/websockets';
import type { StreamEventPayload } from './events';
import type { DingtalkState } from './state';

// The DingTalk Stream gateway as the official dingtalk-stream SDK speaks it:
// POST /v1.0/gateway/connections/open returns {endpoint, ticket}; the WebSocket carries JSON
// frames {specVersion, type: SYSTEM|EVENT|CALLBACK, headers, data}; the client answers SYSTEM
// pings by echoing them and acks each EVENT with {code: 200, headers: {messageId}, data: '{"status":"SUCCESS"}'}.
// A CALLBACK (card clicks) goes only to a connection that subscribed to its topic, and is answered
// with {code: 200, headers: {messageId}, data: '{"response": …}'}.

export const DINGTALK_STREAM_PATH = '/dingtalk/stream/connect';

const openRequestSchema = z.object({
  clientId: z.string().min(1),
  clientSecret: z.string().min(1),
  ua: z.string().optional(),
  subscriptions: z
    .array(z.object({ type: z.string(), topic: z.string() }))
    .min(1),
});

const ackSchema = z.object({
  code: z.number(),
  headers: z.object({ messageId: z.string() }).loose(),
  data: z.string().optional(),
});

const frame = (
  type: 'SYSTEM' | 'EVENT' | 'CALLBACK',
  headers: Record<string, string>,
  data: string,
) =>
  JSON.stringify({
    specVersion: '1.0',
    type,
    headers: {
      contentType: 'application/json',
      time: String(Date.now()),
      ...headers,
    },
    data,
  });

export class DingtalkStream {
  private readonly tickets = new Tickets();
  private readonly connectionIds = new WeakMap<WebSocket, string>();
  /** The CALLBACK topics a ticket's connection subscribed to when it was opened. */
  private readonly ticketTopics = new Map<string, string[]>();
  private readonly callbackTopics = new WeakMap<WebSocket, string[]>();
  private readonly awaiting = new Map<string, (data: string) => void>();

  constructor(
    private readonly state: DingtalkState,
    private readonly connections: LongConnections,
  ) {}

  /** Writes one approval event as an EVENT frame. */
  send = (socket: WebSocket, messageId: string, payload: unknown): void => {
    const event = payload as StreamEventPayload;
    const headers = {
      messageId,
      topic: '*',
      eventType: event.eventType,
      eventId: event.eventId,
      eventBornTime: String(Date.now()),
      eventCorpId: this.state.corpId,
      connectionId: this.connectionIds.get(socket) ?? '',
    };
    socket.send(frame('EVENT', headers, JSON.stringify(event.data)));
  };

  gateway(): Router {
    const router = Router();
    router.post(
      '/v1.0/gateway/connections/open',
      express.json(),
      (req, res) => {
        const fault = this.state.faults.take('gateway.open');
        if (fault) {
          res
            .status(fault.httpStatus)
            .json({ code: String(fault.code), message: fault.msg });
          return;
        }
        const request = openRequestSchema.safeParse(req.body ?? {});
        if (!request.success) {
          res.status(400).json({
            code: 'InvalidParameter',
            message: request.error.issues
              .map(issue => issue.message)
              .join('; '),
          });
          return;
        }
        const app = this.state.apps.get(request.data.clientId);
        if (app?.appSecret !== request.data.clientSecret) {
          res.status(401).json({
            code: 'InvalidAuthentication',
            message: 'clientId or clientSecret is invalid',
          });
          return;
        }
        if (this.connections.refusing(app.appKey)) {
          res.status(503).json({
            code: 'ServiceUnavailable',
            message: 'the gateway is busy; retry later',
          });
          return;
        }
        const ticket = this.tickets.issue(app.appKey);
        this.ticketTopics.set(
          ticket,
          request.data.subscriptions
            .filter(subscription => subscription.type === 'CALLBACK')
            .map(subscription => subscription.topic),
        );
        res.json({
          endpoint: `ws://${req.get('host')}${DINGTALK_STREAM_PATH}`,
          ticket,
        });
      },
    );
    return router;
  }

  route(): WebSocketRoute {
    return {
      path: DINGTALK_STREAM_PATH,
      authorize: url => this.tickets.redeem(url.searchParams.get('ticket')),
      connected: (socket, appKey, url) => {
        const connectionId = randomUUID();
        this.connectionIds.set(socket, connectionId);
        const ticket = url.searchParams.get('ticket') ?? '';
        this.callbackTopics.set(socket, this.ticketTopics.get(ticket) ?? []);
        this.ticketTopics.delete(ticket);
        socket.on('message', (data: Buffer) => this.receive(data));
        socket.send(
          frame(
            'SYSTEM',
            { topic: 'CONNECTED', messageId: randomUUID(), connectionId },
            '{}',
          ),
        );
        this.connections.attach(appKey, socket);
      },
    };
  }

  /**
   * Pushes a CALLBACK to one of the app's connections subscribed to its topic and answers what the
   * app sent back (its ack's data); rejects when none is subscribed or no answer comes in time.
   */
  callback(
    appKey: string,
    topic: string,
    data: string,
    timeoutMs: number,
  ): Promise<string> {
    const socket = this.connections
      .socketsOf(appKey)
      .find(candidate => this.callbackTopics.get(candidate)?.includes(topic));
    if (!socket)
      return Promise.reject(
        new Error(
          `app ${appKey} has no Stream connection subscribed to CALLBACK ${topic}`,
        ),
      );
    const messageId = randomUUID();
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.awaiting.delete(messageId);
        reject(new Error(`no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.awaiting.set(messageId, answer => {
        clearTimeout(timer);
        this.awaiting.delete(messageId);
        resolve(answer);
      });
      socket.send(frame('CALLBACK', { messageId, topic }, data));
    });
  }

  /** Pings every connection, as the gateway does to keep them alive. */
  ping(): void {
    for (const socket of this.connections.sockets()) {
      socket.send(
        frame(
          'SYSTEM',
          { topic: 'ping', messageId: randomUUID() },
          JSON.stringify({ opaque: randomUUID() }),
        ),
      );
    }
  }

  private receive(data: Buffer): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(data.toString('utf8'));
    } catch {
      return;
    }
    const ack = ackSchema.safeParse(parsed);
    if (!ack.success || ack.data.code !== 200) return;
    const answered = this.awaiting.get(ack.data.headers.messageId);
    if (answered) {
      answered(ack.data.data ?? '');
      return;
    }
    // "LATER" asks for the event again later: no ack.
    const status = safeStatus(ack.data.data);
    if (status === undefined || status === 'SUCCESS')
      this.connections.ack(ack.data.headers.messageId);
  }
}

function safeStatus(data: string | undefined): string | undefined {
  if (data === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(data);
    return z.object({ status: z.string() }).safeParse(parsed).data?.status;
  } catch {
    return undefined;
  }
}
