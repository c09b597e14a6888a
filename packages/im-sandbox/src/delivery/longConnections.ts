import { randomUUID } from 'node:crypto';
import { WebSocket } from 'ws';
import type {
  DeliveryChannel,
  DeliveryControl,
  DeliveryLog,
  EventIdentity,
} from './log';

// The platform side of long connections (Feishu's WebSocket, DingTalk Stream): each event goes
// to one connected client of its app and is pushed again until that client acks it; while no
// client is connected, events wait. The frames themselves are each IM's own.

export interface LongConnectionOptions {
  channel: DeliveryChannel;
  /** How long a pushed event may wait for its ack before it is pushed again. */
  ackTimeoutMs: number;
  /** Writes one event to a socket in the IM's frame format. */
  send(socket: WebSocket, messageId: string, payload: unknown): void;
}

interface Pending {
  messageId: string;
  appId: string;
  event: EventIdentity;
  payload: unknown;
  attempts: number;
  /** Called once, when the client acks it. */
  onAcked?: () => void;
  /** Set while pushed and waiting for the ack. */
  inFlight?: { socket: WebSocket; timer: NodeJS.Timeout };
}

export interface ConnectionView {
  appId: string;
  connections: number;
  /** Events waiting for a client or for an ack. */
  pending: number;
}

export class LongConnections {
  private readonly socketsByApp = new Map<string, Set<WebSocket>>();
  private pending = new Map<string, Pending>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly downUntil = new Map<string, number>();

  constructor(
    private readonly log: DeliveryLog,
    private readonly options: LongConnectionOptions,
  ) {}

  /** A client of `appId` connected: it takes its share of waiting events. */
  attach(appId: string, socket: WebSocket): void {
    const sockets = this.socketsByApp.get(appId) ?? new Set();
    sockets.add(socket);
    this.socketsByApp.set(appId, sockets);
    socket.on('close', () => this.detach(appId, socket));
    this.flush(appId);
  }

  /** The client acknowledged a pushed event; an unknown or repeated ack changes nothing. */
  ack(messageId: string): void {
    const item = this.pending.get(messageId);
    if (!item?.inFlight) return;
    this.stopTimer(item.inFlight.timer);
    this.pending.delete(messageId);
    this.log.record(item.event, {
      attempt: item.attempts,
      outcome: 'delivered',
      willRetry: false,
    });
    item.onAcked?.();
  }

  /**
   * Pushes `event` until a client acks it, as the control asks (dropped, delayed, sent twice).
   * `onSettled` (optional) is called once every copy was acked, or at once for a dropped event:
   * what an IM that delivers an instance's events in order waits for before the next.
   */
  deliver(
    appId: string,
    event: EventIdentity,
    payload: unknown,
    control: DeliveryControl = {},
    onSettled?: () => void,
  ): void {
    if (control.drop) {
      this.log.record(event, {
        attempt: 0,
        outcome: 'dropped',
        willRetry: false,
      });
      onSettled?.();
      return;
    }
    let copies = control.duplicate ? 2 : 1;
    const acked = () => {
      copies -= 1;
      if (copies === 0) onSettled?.();
    };
    for (let copy = 0, all = copies; copy < all; copy += 1) {
      const enqueue = () => {
        const item: Pending = {
          messageId: randomUUID(),
          appId,
          event,
          payload,
          attempts: 0,
          onAcked: acked,
        };
        this.pending.set(item.messageId, item);
        if (!this.push(item))
          this.log.record(event, {
            attempt: 0,
            outcome: 'queued',
            error: 'no client connected',
            willRetry: true,
          });
      };
      if (control.delayMs) {
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          enqueue();
        }, control.delayMs);
        this.timers.add(timer);
      } else {
        enqueue();
      }
    }
  }

  /**
   * Closes the app's connections (every app's without one); the clients are expected to reconnect,
   * which the gateway refuses (as a transient failure) for `downForMs`.
   */
  drop(appId?: string, downForMs = 0): number {
    let closed = 0;
    const until = Date.now() + downForMs;
    for (const id of appId === undefined
      ? [...this.socketsByApp.keys()]
      : [appId]) {
      const sockets = this.socketsByApp.get(id) ?? new Set();
      if (downForMs > 0) this.downUntil.set(id, until);
      sockets.forEach(socket => socket.terminate());
      closed += sockets.size;
    }
    return closed;
  }

  /** Whether the gateway is to refuse the app's connections for now (after a drop with downForMs). */
  refusing(appId: string): boolean {
    return (this.downUntil.get(appId) ?? 0) > Date.now();
  }

  /** Every open connection, of every app. */
  /** The app's open connections. */
  socketsOf(appId: string): WebSocket[] {
    return [...(this.socketsByApp.get(appId) ?? [])];
  }

  sockets(): WebSocket[] {
    return [...this.socketsByApp.values()].flatMap(sockets => [...sockets]);
  }

  views(): ConnectionView[] {
    const appIds = new Set([
      ...this.socketsByApp.keys(),
      ...[...this.pending.values()].map(item => item.appId),
    ]);
    return [...appIds].map(appId => ({
      appId,
      connections: this.socketsByApp.get(appId)?.size ?? 0,
      pending: [...this.pending.values()].filter(item => item.appId === appId)
        .length,
    }));
  }

  /** Forgets waiting events; connections stay. */
  reset(): void {
    this.clearTimers();
    this.pending = new Map();
    this.downUntil.clear();
  }

  close(): void {
    this.reset();
    this.socketsByApp.forEach(sockets =>
      sockets.forEach(socket => socket.terminate()),
    );
    this.socketsByApp.clear();
  }

  private detach(appId: string, socket: WebSocket): void {
    this.socketsByApp.get(appId)?.delete(socket);
    for (const item of this.pending.values()) {
      if (item.inFlight?.socket !== socket) continue;
      this.stopTimer(item.inFlight.timer);
      item.inFlight = undefined;
      this.log.record(item.event, {
        attempt: item.attempts,
        outcome: 'failed',
        error: 'connection closed before the ack',
        willRetry: true,
      });
    }
    this.flush(appId);
  }

  private flush(appId: string): void {
    for (const item of this.pending.values()) {
      if (item.appId === appId && !item.inFlight) this.push(item);
    }
  }

  /** Pushes to one random open client of the app; false when none is connected. */
  private push(item: Pending): boolean {
    const open = [...(this.socketsByApp.get(item.appId) ?? [])].filter(
      socket => socket.readyState === WebSocket.OPEN,
    );
    if (open.length === 0) return false;
    const socket = open[Math.floor(Math.random() * open.length)];
    item.attempts += 1;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (this.pending.get(item.messageId) !== item) return;
      item.inFlight = undefined;
      this.log.record(item.event, {
        attempt: item.attempts,
        outcome: 'failed',
        error: `no ack within ${this.options.ackTimeoutMs} ms`,
        willRetry: true,
      });
      if (!this.push(item))
        this.log.record(item.event, {
          attempt: 0,
          outcome: 'queued',
          error: 'no client connected',
          willRetry: true,
        });
    }, this.options.ackTimeoutMs);
    this.timers.add(timer);
    item.inFlight = { socket, timer };
    this.options.send(socket, item.messageId, item.payload);
    return true;
  }

  private stopTimer(timer: NodeJS.Timeout): void {
    clearTimeout(timer);
    this.timers.delete(timer);
  }

  private clearTimers(): void {
    this.timers.forEach(timer => clearTimeout(timer));
    this.timers.clear();
  }
}
