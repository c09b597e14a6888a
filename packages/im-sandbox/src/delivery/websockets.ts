import { randomBytes } from 'node:crypto';
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';

// Where the long-connection clients connect: an open call hands out a one-time ticket, the
// WebSocket URL carries it, and the upgrade is refused without a valid one, as the real gateways do.

// A ticket must be used soon after it is issued.
const TICKET_TTL_MS = 5 * 60 * 1000;

export class Tickets {
  private readonly issued = new Map<
    string,
    { appId: string; expiresAt: number }
  >();

  issue(appId: string): string {
    const ticket = randomBytes(24).toString('hex');
    this.issued.set(ticket, { appId, expiresAt: Date.now() + TICKET_TTL_MS });
    return ticket;
  }

  /** The app a ticket was issued to; each ticket opens one connection. */
  redeem(ticket: string | null): string | undefined {
    if (ticket === null) return undefined;
    const entry = this.issued.get(ticket);
    this.issued.delete(ticket);
    return entry && entry.expiresAt > Date.now() ? entry.appId : undefined;
  }
}

export interface WebSocketRoute {
  path: string;
  /** The app the upgrade request is for, or undefined to refuse it with 403. */
  authorize(url: URL): string | undefined;
  connected(socket: WebSocket, appId: string, url: URL): void;
}

/** Serves the routes' WebSocket upgrades on the HTTP server; other upgrade requests get 404. */
export function acceptWebSockets(
  server: http.Server,
  routes: WebSocketRoute[],
): WebSocketServer {
  const wss = new WebSocketServer({ noServer: true });
  server.on(
    'upgrade',
    (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
      const url = new URL(req.url ?? '/', 'http://sandbox');
      const route = routes.find(candidate => candidate.path === url.pathname);
      const appId = route?.authorize(url);
      if (!route || appId === undefined) {
        socket.end(
          `HTTP/1.1 ${route ? '403 Forbidden' : '404 Not Found'}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`,
        );
        return;
      }
      wss.handleUpgrade(req, socket, head, ws =>
        route.connected(ws, appId, url),
      );
    },
  );
  return wss;
}
