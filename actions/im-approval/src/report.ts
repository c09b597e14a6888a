import * as core from '@actions/core';
import { formatDuration, type Approval, type ApprovalStatus } from '@im-approval/plugin-im-approval-common';

const HEADINGS: Record<ApprovalStatus, string> = {
  pending: '⏳ Approval pending',
  approved: '✅ Approved',
  rejected: '❌ Rejected',
  canceled: '🚫 Canceled',
  expired: '⌛ Expired',
  failed: '⚠️ Approval failed',
};

const seconds = (from: string, to: number) => (to - Date.parse(from)) / 1000;

/** Where the approval is and who may decide it, for the log. */
export function describeApproval(approval: Approval): string {
  const where = approval.imUrl ? `${approval.provider}: ${approval.imUrl}` : approval.provider;
  return `"${approval.title}" (template ${approval.template}), approvers ${approval.approvers.join(', ')} in ${where}`;
}

export function progressLine(approval: Approval, now: number): string {
  const left = formatDuration(-seconds(approval.expiresAt, now));
  return `Waiting for a decision on ${describeApproval(approval)}; ${left} left.`;
}

export function outcomeLine(approval: Approval): string {
  switch (approval.status) {
    case 'approved':
    case 'rejected':
      return `${approval.status === 'approved' ? 'Approved' : 'Rejected'} by ${approval.decidedBy ?? 'an approver'}${
        approval.comment ? `: "${approval.comment}"` : ''
      }`;
    case 'canceled':
      return `The approval was canceled${approval.decidedBy ? ` by ${approval.decidedBy}` : ''}${approval.comment ? `: "${approval.comment}"` : ''}`;
    case 'expired':
      return `Nobody decided before the approval expired at ${approval.expiresAt}`;
    case 'failed':
      return `The approval failed: ${approval.error ?? 'the IM instance could not be created or was deleted'}`;
    case 'pending':
      return `The approval is pending; it expires at ${approval.expiresAt}`;
  }
}

export function setOutputs(approval: Approval): void {
  core.setOutput('approval-id', approval.id);
  core.setOutput('status', approval.status);
  core.setOutput('approved', String(approval.status === 'approved'));
  core.setOutput('decided-by', approval.decidedBy ?? '');
  core.setOutput('comment', approval.comment ?? '');
  core.setOutput('decided-at', approval.decidedAt ?? '');
  core.setOutput('url', approval.imUrl ?? '');
}

/** The job summary: one table a reviewer reads after the run. Values are HTML, so text is escaped. */
export async function writeSummary(approval: Approval, now: number = Date.now()): Promise<void> {
  const text = (value: string | null) => (value ? escapeHtml(value) : '—');
  const timing: [string, string] =
    approval.status === 'pending'
      ? ['Expires', approval.expiresAt]
      : ['Waited', formatDuration(seconds(approval.createdAt, approval.decidedAt ? Date.parse(approval.decidedAt) : now))];
  const rows: Array<[string, string]> = [
    ['Status', approval.status],
    ['Decided by', text(approval.decidedBy)],
    ['Comment', text(approval.comment)],
    ['Template', text(approval.template)],
    ['Approvers', text(approval.approvers.join(', '))],
    ['IM', approval.imUrl ? `<a href="${escapeHtml(approval.imUrl)}">${approval.provider} instance</a>` : approval.provider],
    timing,
    ['Approval id', `<code>${approval.id}</code>`],
  ];
  await core.summary
    .addHeading(`${HEADINGS[approval.status]}: ${escapeHtml(approval.title)}`, 3)
    .addTable(rows.map(([name, value]) => [{ data: name, header: true }, value]))
    .write();
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, c => `&#${c.charCodeAt(0)};`);
}
