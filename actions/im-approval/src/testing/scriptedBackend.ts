import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  url: string;
  authorization?: string;
  body: unknown;
}

/** What the backend does with one request: answer, or drop the connection. */
export type Reply = { status: number; body: unknown } | 'drop';

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
      const body =
        typeof reply.body === 'string'
          ? reply.body
          : JSON.stringify(reply.body);
      res
        .writeHead(reply.status, { 'content-type': 'application/json' })
        .end(body);
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
