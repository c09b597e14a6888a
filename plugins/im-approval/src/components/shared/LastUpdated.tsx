import Typography from '@material-ui/core/Typography';
import { useEffect, useState } from 'react';
import { formatDuration } from '@im-approval/plugin-im-approval-common';

/** Below this age a read counts as "just now": a signal-driven page is usually a moment old. */
const JUST_NOW_MS = 10_000;

/** Says how fresh what the page shows is ("Updated just now", "Updated 2m ago"), ticking while it stays open. */
export function LastUpdated(props: { at?: number }) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 5_000);
    return () => clearInterval(timer);
  }, []);
  if (props.at === undefined) return null;
  const age = Math.max(0, now - props.at);
  return (
    // Primary text: the theme's secondary grey is below 4.5:1 on the page background.
    <Typography variant="caption" role="status" aria-live="polite">
      {age < JUST_NOW_MS
        ? 'Updated just now'
        : `Updated ${formatDuration(Math.floor(age / 1000))} ago`}
    </Typography>
  );
}
