/**
 * Tells every backend replica that an approval changed, so their waiters re-read it; on a channel
 * of its own, that an integration changed, so their connections follow.
 */
export interface ChangeBus {
  publish(approvalId: string): Promise<void>;
  /** `onChange` gets the id; `onGap` is called after notifications may have been lost. */
  start(listener: {
    onChange(approvalId: string): void;
    onGap(): void;
  }): Promise<void>;
  stop(): Promise<void>;
}

/** A single process (SQLite): the in-process hub is already everyone. */
export class LocalChangeBus implements ChangeBus {
  async publish() {}
  async start() {}
  async stop() {}
}
