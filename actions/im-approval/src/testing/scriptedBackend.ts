import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  url: string;
  authorization?: string;
  body: unknown;
}

/**
 * What the backend does with one request: answer, or drop the connection. `heartbeats` spaces go
 * first, 10 ms apart, as a held long-poll's do; `body: 'drop'` then ends the connection instead.
 */
export type Reply =
  { status: number; body: unknown; heartbeats?: number } | 'drop';

const HEARTBEAT_MS = 10;

/**
 * A real HTTP server on a free port that answers requests in order from a script, and records
 * them, so the client is tested over real sockets rather than an intercepted fetch.
 */
export interface ScriptedBackend {
  apiUrl: string;
  requests: RecordedRequest[];
  /** Replies not used yet. */
  remaining(): number;
  close(): Promise<void>;
}

export async function startScriptedBackend(
  replies: Array<Reply | ((request: RecordedRequest) => Reply)>,
): Promise<ScriptedBackend> {
  const queue = [...replies];
  const requests: RecordedRequest[] = [];
  const server: Server = createServer(async (req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const request = {
      method: req.method!,
      url: req.url!,
      authorization: req.headers.authorization,
      body: text ? JSON.parse(text) : undefined,
    };
    requests.push(request);
    const next = queue.shift();
    const reply = typeof next === 'function' ? next(request) : next;
    if (reply === undefined) {
      res.writeHead(599).end('no reply scripted');
    } else if (reply === 'drop') {
      req.socket.destroy();
    } else {
      res.writeHead(reply.status, { 'content-type': 'application/json' });
      for (let beat = 0; beat < (reply.heartbeats ?? 0); beat++) {
        res.write(' ');
        await new Promise(resolve => setTimeout(resolve, HEARTBEAT_MS));
      }
      if (reply.body === 'drop') req.socket.destroy();
      else
        res.end(
          typeof reply.body === 'string'
            ? reply.body
            : JSON.stringify(reply.body),
        );
    }
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    apiUrl: `http://127.0.0.1:${port}/api/im-approval`,
    requests,
    remaining: () => queue.length,
    close: () =>
      new Promise<void>(resolve => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
