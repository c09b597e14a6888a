import {
  APPROVAL_SIGNAL_CHANNEL,
  type ApprovalSignal,
} from '@im-approval/plugin-im-approval-common';
import { useSignal } from '@backstage/plugin-signals-react';
import { useEffect, useRef } from 'react';

/**
 * Calls `onChange` each time the backend signals that approvals changed (Backstage signals, from
 * whichever replica changed them), with the changes. An app without the signals plugin never calls
 * it: its pages show changes when they are read again.
 */
export function useApprovalChanges(
  onChange: (changes: ApprovalSignal['changes']) => void,
) {
  const { lastSignal } = useSignal<ApprovalSignal>(APPROVAL_SIGNAL_CHANNEL);
  const latest = useRef(onChange);
  latest.current = onChange;
  useEffect(() => {
    if (lastSignal?.changes) latest.current(lastSignal.changes);
  }, [lastSignal]);
}
