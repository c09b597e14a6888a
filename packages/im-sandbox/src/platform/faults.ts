// Failures a test injects on purpose: the next calls of an API route answer an error code.
// Also counts every call per route, injected failures included.

export interface Fault {
  code: number;
  msg: string;
  httpStatus: number;
  remaining: number;
}

export class Faults<Route extends string> {
  calls: Partial<Record<Route, number>> = {};
  private pending = new Map<Route, Fault[]>();

  add(route: Route, fault: Fault): void {
    this.pending.set(route, [...(this.pending.get(route) ?? []), fault]);
  }

  /** Counts a call of `route` and returns the fault it must answer with, if any is left (using it up). */
  take(route: Route): Fault | undefined {
    this.calls[route] = (this.calls[route] ?? 0) + 1;
    const [fault] = this.pending.get(route) ?? [];
    if (!fault) return undefined;
    fault.remaining -= 1;
    if (fault.remaining === 0) this.pending.set(route, (this.pending.get(route) ?? []).slice(1));
    return fault;
  }

  reset(): void {
    this.pending = new Map();
    this.calls = {};
  }
}
