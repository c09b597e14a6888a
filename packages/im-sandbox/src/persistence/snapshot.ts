import { ApprovalFlow } from '../flow/approvalFlow';

// What one IM's state keeps across a sandbox restart: its apps, people and forms (with what tests
// and people changed through the control API), its instances (flows included) and the counters its
// ids come from, so a restarted sandbox never reissues an id a backend still holds. Tokens, faults,
// rate-limit windows and pending redeliveries are left behind, as a real IM's would be to a client
// that reconnects: a backend fetches a new token and its reconciler reads what it missed.

/** One IM state's snapshot: tables by name (each a list of [key, row]) and counters by name. */
export interface StateSnapshot {
  tables: Record<string, Array<[string | number, unknown]>>;
  counters: Record<string, number>;
}

/** A state that can be snapshotted and restored. */
export interface PersistableState {
  snapshot(): StateSnapshot;
  restore(snapshot: StateSnapshot): void;
}

/**
 * Puts a snapshot's rows into `table`, each passed through `revive`: a kept row replaces the seed's
 * of the same key (what the control API changed stays changed), and what only the seed has stays.
 */
export function restoreTable<K, V>(
  table: Map<K, V>,
  rows: Array<[string | number, unknown]> | undefined,
  revive: (row: V) => V = row => row,
): void {
  for (const [key, row] of rows ?? []) table.set(key as K, revive(row as V));
}

/** An instance whose `flow` was kept as JSON, with its flow running again. */
export function withRestoredFlow<I extends { flow: ApprovalFlow }>(
  instance: I,
  nextTaskId: () => string,
): I {
  return { ...instance, flow: ApprovalFlow.restore(instance.flow, nextTaskId) };
}
