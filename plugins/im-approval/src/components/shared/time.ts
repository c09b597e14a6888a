import { formatDuration } from '@im-approval/plugin-im-approval-common';

export function formatTime(iso: string): string {
  return new Date(iso).toLocaleString();
}

const SHORT_TIME = new Intl.DateTimeFormat(undefined, {
  month: 'short',
  day: 'numeric',
  hour: 'numeric',
  minute: '2-digit',
});

/** A time short enough for a table cell ("Dec 2, 9:05 AM"); the full one goes in its title. */
export function formatShortTime(iso: string): string {
  return SHORT_TIME.format(new Date(iso));
}

/** How long an approval waited: until its decision, or until now while it is pending. */
export function formatAge(
  createdAt: string,
  decidedAt: string | null,
  now = Date.now(),
): string {
  const end = decidedAt ? Date.parse(decidedAt) : now;
  return formatDuration(Math.max(0, (end - Date.parse(createdAt)) / 1000));
}
