import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { buffer } from 'node:stream/consumers';

export interface ReceivedRequest {
  headers: http.IncomingHttpHeaders;
  rawBody: Buffer;
  at: number;
}

/** A stand-in for the backend's callback endpoint: records raw requests and answers as told. */
export class Receiver {
  url = '';
  readonly requests: ReceivedRequest[] = [];
  /** The status for the n-th request (0-based). */
  answer: (index: number) => number = () => 200;
  private readonly server: http.Server;

  /** With a handler (e.g. the SDK's adapter) the receiver only hosts it and records nothing. */
  constructor(handler?: http.RequestListener) {
    this.server = http.createServer(
      handler ?? ((req, res) => void this.record(req, res)),
    );
  }

  async start(): Promise<void> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/callbacks`;
  }

  async close(): Promise<void> {
    if (!this.server.listening) return;
    const closed = once(this.server, 'close');
    this.server.close();
    this.server.closeAllConnections();
    await closed;
  }

  private async record(
    req: http.IncomingMessage,
    res: http.ServerResponse,
  ): Promise<void> {
    const rawBody = await buffer(req);
    const index =
      this.requests.push({ headers: req.headers, rawBody, at: Date.now() }) - 1;
    res.statusCode = this.answer(index);
    res.end('{}');
  }
}

export async function startReceiver(
  handler?: http.RequestListener,
): Promise<Receiver> {
  const receiver = new Receiver(handler);
  await receiver.start();
  return receiver;
}
