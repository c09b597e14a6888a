// Failures a test injects on purpose: the next calls of an API route answer an error code.
// Also counts every call per route, injected failures included.

export interface Fault {
  code: number;
  msg: string;
  httpStatus: number;
  remaining: number;
}

/**
 * What happens to the answer of a call that took effect: lost (the connection reset, as a client
 * timeout or a dropped proxy connection looks to the caller), replaced by an HTTP 500 (a gateway
 * failing after the IM acted), or sent only after a delay (a slow IM).
 */
export interface AnswerFault {
  lose?: 'reset' | 'http500';
  delayMs?: number;
  remaining: number;
}

/** Faults queued per route, each for its next `remaining` calls. */
class FaultQueue<Route extends string, F extends { remaining: number }> {
  private pending = new Map<Route, F[]>();

  add(route: Route, fault: F): void {
    this.pending.set(route, [...(this.pending.get(route) ?? []), fault]);
  }

  /** The fault the next call of `route` suffers, if any is left (using it up). */
  take(route: Route): F | undefined {
    const [fault] = this.pending.get(route) ?? [];
    if (!fault) return undefined;
    fault.remaining -= 1;
    if (fault.remaining === 0)
      this.pending.set(route, (this.pending.get(route) ?? []).slice(1));
    return fault;
  }

  reset(): void {
    this.pending = new Map();
  }
}

export class Faults<Route extends string> {
  calls: Partial<Record<Route, number>> = {};
  private readonly errors = new FaultQueue<Route, Fault>();
  /** Applied after the call took effect; see AnswerFault. */
  readonly answers = new FaultQueue<Route, AnswerFault>();

  add(route: Route, fault: Fault): void {
    this.errors.add(route, fault);
  }

  /** Counts a call of `route` and returns the fault it must answer with, if any is left (using it up). */
  take(route: Route): Fault | undefined {
    this.calls[route] = (this.calls[route] ?? 0) + 1;
    return this.errors.take(route);
  }

  reset(): void {
    this.errors.reset();
    this.answers.reset();
    this.calls = {};
  }
}

/**
 * Sends a call's answer as the next answer fault of its route says: at once, late, as an HTTP 500
 * (`http500`, in the IM's own shape), or never, the connection reset.
 */
export function answerAsFaulted<Route extends string>(
  faults: Faults<Route>,
  route: Route,
  socket: { destroy(): void },
  answer: () => void,
  http500: () => void,
): void {
  const fault = faults.answers.take(route);
  if (fault?.lose === 'reset') {
    socket.destroy();
    return;
  }
  const send = fault?.lose === 'http500' ? http500 : answer;
  if (fault?.delayMs) setTimeout(send, fault.delayMs);
  else send();
}
