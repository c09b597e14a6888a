import type { ImEvent } from '@im-approval/plugin-im-approval-node';

export interface InboxEvent extends ImEvent {
  integration: string;
  source: 'callback' | 'connection';
  attempts: number;
}

/** IM events recorded before the IM is answered, and processed after, by any replica. */
export interface EventInbox {
  /** Records verified events; answers those not seen before (redeliveries are dropped here). */
  record(
    integration: string,
    events: ImEvent[],
    source: InboxEvent['source'],
    leaseMs: number,
  ): Promise<ImEvent[]>;
  /**
   * Claims up to `limit` unprocessed events whose time has come (left by a crashed replica, or
   * failed earlier): each goes to one claimer, which has `leaseMs` to finish it.
   */
  claimDue(limit: number, leaseMs: number): Promise<InboxEvent[]>;
  done(integration: string, eventIds: string[]): Promise<void>;
  /** Leaves events for a later attempt, after `delayMs`, remembering why. */
  retryLater(
    integration: string,
    eventIds: string[],
    error: string,
    delayMs: number,
  ): Promise<void>;
  /** Forgets processed events received before `before`; returns how many. */
  prune(before: Date): Promise<number>;
}
