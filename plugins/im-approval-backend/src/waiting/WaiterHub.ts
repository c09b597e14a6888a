export type WakeReason = 'changed' | 'timeout' | 'aborted';

export interface Subscription {
  /** Resolves on the first wake-up after subscribing, the timeout, or the signal; whichever comes first. */
  next(timeoutMs: number, signal?: AbortSignal): Promise<WakeReason>;
  /** Records the version of the approval the waiter last read, for `wakeChanged`. */
  saw(version: string): void;
  close(): void;
}

interface Waiter {
  wake(): void;
  seen?: string;
}

/**
 * Long-poll waiters of this process, keyed by approval id. Subscribe before reading the
 * approval, so a change between the read and the wait is never missed.
 */
export class WaiterHub {
  private readonly waiters = new Map<string, Set<Waiter>>();

  subscribe(id: string): Subscription {
    let woken = false;
    let resolveNext: ((reason: WakeReason) => void) | undefined;
    const waiter: Waiter = {
      wake: () => {
        woken = true;
        resolveNext?.('changed');
      },
    };
    let set = this.waiters.get(id);
    if (!set) this.waiters.set(id, (set = new Set()));
    set.add(waiter);

    const close = () => {
      const current = this.waiters.get(id);
      current?.delete(waiter);
      if (current?.size === 0) this.waiters.delete(id);
    };

    return {
      close,
      saw: version => {
        waiter.seen = version;
      },
      next: (timeoutMs, signal) =>
        new Promise<WakeReason>(resolve => {
          if (woken) {
            woken = false;
            resolve('changed');
            return;
          }
          if (signal?.aborted) {
            resolve('aborted');
            return;
          }
          const timer = setTimeout(
            () => finish('timeout'),
            Math.max(0, timeoutMs),
          );
          function finish(reason: WakeReason) {
            clearTimeout(timer);
            signal?.removeEventListener('abort', onAbort);
            resolveNext = undefined;
            woken = false;
            resolve(reason);
          }
          function onAbort() {
            finish('aborted');
          }
          signal?.addEventListener('abort', onAbort, { once: true });
          resolveNext = finish;
        }),
    };
  }

  wake(id: string): void {
    for (const waiter of this.waiters.get(id) ?? []) waiter.wake();
  }

  /** Wakes the waiters that saw another version of their approval than `versions` holds now. */
  wakeChanged(versions: ReadonlyMap<string, string>): void {
    for (const [id, waiters] of this.waiters) {
      const current = versions.get(id);
      if (current === undefined) continue;
      for (const waiter of waiters) if (waiter.seen !== current) waiter.wake();
    }
  }

  /** The approvals someone waits on. */
  ids(): string[] {
    return [...this.waiters.keys()];
  }

  /** Wakes every waiter, e.g. after a lost connection may have swallowed notifications. */
  wakeAll(): void {
    for (const id of [...this.waiters.keys()]) this.wake(id);
  }
}
