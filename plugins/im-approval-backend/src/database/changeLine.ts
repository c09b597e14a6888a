import type { ApprovalContext } from '@im-approval/plugin-im-approval-common';
import { createHash } from 'node:crypto';

/**
 * The line of changes an approval belongs to: its template, repository and environment, hashed to
 * an indexed key (migration 20261208000000_change_lines computes it alike). Template tests deploy
 * nothing and belong to none.
 */
export function changeLineOf(
  template: string,
  context: ApprovalContext,
): string | null {
  if (context.test) return null;
  return createHash('sha256')
    .update(
      JSON.stringify([
        template,
        context.repository,
        context.environment ?? null,
      ]),
    )
    .digest('hex');
}
