import { formatDuration } from '@im-approval/plugin-im-approval-common';

export function formatTime(iso: string): string {
  return new Date(iso).toLocaleString();
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
