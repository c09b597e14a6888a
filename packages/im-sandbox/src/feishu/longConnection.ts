import { randomBytes, randomUUID } from 'node:crypto';
import express, { Router } from 'express';
import protobuf from 'protobufjs';
import { z } from 'zod';
import type { WebSocket } from 'ws';
import type { LongConnections } from '../delivery/longConnections';
import { Tickets, type WebSocketRoute } from '../delivery/websockets';
import type { FeishuState } from './state';

// Feishu's long connection as the official SDK's WSClient speaks it: POST /callback/ws/endpoint
// returns a WebSocket URL and the client config; frames are the protobuf `pbbp2.Frame`; events
// are data frames the client acks by echoing them with a {"code":200} payload; the client's ping
// control frames get a pong carrying the client config.

export const FEISHU_WS_PATH = '/feishu/ws/v2';

/** Seconds, as Feishu sends them; the defaults are Feishu's own. */
export const feishuClientConfigSchema = z.strictObject({
  PingInterval: z.number().positive().default(120),
  ReconnectCount: z.number().int().default(-1),
  ReconnectInterval: z.number().positive().default(120),
  ReconnectNonce: z.number().min(0).default(30),
});
export type FeishuClientConfig = z.infer<typeof feishuClientConfigSchema>;

// The endpoint's answers, as the SDK's ErrorCode enum names them (it retries only the internal error).
const AUTH_FAILED = 514;
const INTERNAL_ERROR = 1000040343;
const FRAME_CONTROL = 0;
const FRAME_DATA = 1;
const SERVICE_ID = 1;

const frameRoot = protobuf.Root.fromJSON({
  nested: {
    pbbp2: {
      nested: {
        Header: {
          fields: {
            key: { type: 'string', id: 1 },
            value: { type: 'string', id: 2 },
          },
        },
        Frame: {
          fields: {
            SeqID: { type: 'uint64', id: 1 },
            LogID: { type: 'uint64', id: 2 },
            service: { type: 'int32', id: 3 },
            method: { type: 'int32', id: 4 },
            headers: { rule: 'repeated', type: 'Header', id: 5 },
            payloadEncoding: { type: 'string', id: 6 },
            payloadType: { type: 'string', id: 7 },
            payload: { type: 'bytes', id: 8 },
            LogIDNew: { type: 'string', id: 9 },
          },
        },
      },
    },
  },
});
const Frame = frameRoot.lookupType('pbbp2.Frame');

interface FrameObject {
  method: number;
  service: number;
  headers: Array<{ key: string; value: string }>;
  payload?: Uint8Array;
}

function encodeFrame(frame: FrameObject): Uint8Array {
  return Frame.encode(
    Frame.fromObject({ SeqID: 0, LogID: 0, ...frame }),
  ).finish();
}

function decodeFrame(data: Buffer): FrameObject {
  return Frame.toObject(Frame.decode(data), {
    longs: Number,
    defaults: true,
  }) as FrameObject;
}

const header = (frame: FrameObject, key: string) =>
  frame.headers.find(entry => entry.key === key)?.value;

/** Writes one event (the v1 envelope, plain JSON) as a data frame. */
export function sendFeishuEvent(
  socket: WebSocket,
  messageId: string,
  payload: unknown,
): void {
  const frame: FrameObject = {
    method: FRAME_DATA,
    service: SERVICE_ID,
    headers: [
      { key: 'type', value: 'event' },
      { key: 'message_id', value: messageId },
      { key: 'sum', value: '1' },
      { key: 'seq', value: '0' },
      { key: 'trace_id', value: randomUUID() },
    ],
    payload: Buffer.from(String(payload), 'utf8'),
  };
  socket.send(encodeFrame(frame));
}

const endpointRequestSchema = z.object({
  AppID: z.string().min(1),
  AppSecret: z.string(),
});

export class FeishuLongConnection {
  private readonly tickets = new Tickets();

  constructor(
    private readonly state: FeishuState,
    private readonly connections: LongConnections,
    private readonly clientConfig: FeishuClientConfig,
  ) {}

  /** POST /callback/ws/endpoint: credentials in, WebSocket URL and client config out. */
  endpoint(): Router {
    const router = Router();
    router.post('/callback/ws/endpoint', express.json(), (req, res) => {
      const request = endpointRequestSchema.safeParse(req.body ?? {});
      const app = request.success
        ? this.state.apps.get(request.data.AppID)
        : undefined;
      if (!request.success || app?.appSecret !== request.data.AppSecret) {
        res.json({
          code: AUTH_FAILED,
          msg: 'auth failed: unknown app or wrong app secret',
          data: {},
        });
        return;
      }
      if (this.connections.refusing(app.appId)) {
        res.json({ code: INTERNAL_ERROR, msg: 'system busy', data: {} });
        return;
      }
      const query = new URLSearchParams({
        device_id: randomBytes(8).toString('hex'),
        service_id: String(SERVICE_ID),
        ticket: this.tickets.issue(app.appId),
      });
      const URL = `ws://${req.get('host')}${FEISHU_WS_PATH}?${query}`;
      res.json({
        code: 0,
        msg: 'ok',
        data: { URL, ClientConfig: this.clientConfig },
      });
    });
    return router;
  }

  route(): WebSocketRoute {
    return {
      path: FEISHU_WS_PATH,
      authorize: url => this.tickets.redeem(url.searchParams.get('ticket')),
      connected: (socket, appId) => {
        socket.on('message', (data: Buffer) => this.receive(socket, data));
        this.connections.attach(appId, socket);
      },
    };
  }

  private receive(socket: WebSocket, data: Buffer): void {
    let frame: FrameObject;
    try {
      frame = decodeFrame(data);
    } catch {
      socket.close(1003, 'not a pbbp2 frame');
      return;
    }
    const type = header(frame, 'type');
    if (frame.method === FRAME_CONTROL && type === 'ping') {
      const pong = {
        method: FRAME_CONTROL,
        service: frame.service,
        headers: [{ key: 'type', value: 'pong' }],
      };
      socket.send(
        encodeFrame({
          ...pong,
          payload: Buffer.from(JSON.stringify(this.clientConfig)),
        }),
      );
    } else if (frame.method === FRAME_DATA && type === 'event') {
      const messageId = header(frame, 'message_id');
      if (messageId !== undefined && ackCode(frame.payload) === 200)
        this.connections.ack(messageId);
    }
  }
}

/** The `code` of the client's ack payload ({"code":200} when its handler succeeded). */
function ackCode(payload: Uint8Array | undefined): number | undefined {
  try {
    const parsed: unknown = JSON.parse(
      Buffer.from(payload ?? []).toString('utf8'),
    );
    return z.object({ code: z.number() }).parse(parsed).code;
  } catch {
    return undefined;
  }
}
