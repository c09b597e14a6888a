import * as core from '@actions/core';
import {
  describeDecider,
  explainRequester,
  formatDuration,
  type Approval,
  type ApprovalStatus,
} from '@im-approval/plugin-im-approval-common';
import { seconds } from './messages';

const HEADINGS: Record<ApprovalStatus, string> = {
  pending: '⏳ Approval pending',
  approved: '✅ Approved',
  rejected: '❌ Rejected',
  canceled: '🚫 Canceled',
  expired: '⌛ Expired',
  failed: '⚠️ Approval failed',
};

export function setOutputs(approval: Approval): void {
  core.setOutput('approval-id', approval.id);
  core.setOutput('status', approval.status);
  core.setOutput('approved', String(approval.status === 'approved'));
  core.setOutput('decided-by', approval.decidedBy ?? '');
  core.setOutput('decided-by-id', approval.decidedById ?? '');
  core.setOutput('comment', approval.comment ?? '');
  core.setOutput('decided-at', approval.decidedAt ?? '');
  core.setOutput('url', approval.imUrl ?? '');
}

/**
 * The job summary: one table a reviewer reads after the run. It is HTML in a file (no workflow
 * commands are read from it), so every value that is not the Action's own is HTML-escaped.
 */
/** The IM and its instance. Only a web link becomes one: a `javascript:` URL from a misconfigured IM stays text. */
function imCell(approval: Approval): string {
  const provider = escapeHtml(approval.provider);
  if (!approval.imUrl) return provider;
  if (/^https?:\/\//i.test(approval.imUrl))
    return `<a href="${escapeHtml(approval.imUrl)}">${provider} instance</a>`;
  return `${provider} instance ${escapeHtml(approval.imUrl)}`;
}

export async function writeSummary(
  approval: Approval,
  now: number = Date.now(),
): Promise<void> {
  const text = (value: string | null) => (value ? escapeHtml(value) : '—');
  const timing: [string, string] =
    approval.status === 'pending'
      ? ['Expires', approval.expiresAt]
      : [
          'Waited',
          formatDuration(
            seconds(
              approval.createdAt,
              approval.decidedAt ? Date.parse(approval.decidedAt) : now,
            ),
          ),
        ];
  const im = imCell(approval);
  const rows: Array<[string, string]> = [
    ['Status', approval.status],
    ['Decided by', text(describeDecider(approval) ?? null)],
    ['Comment', text(approval.comment)],
    // Why an approval failed or expired undecided: the IM instance could not be created, say.
    ...(approval.error
      ? [['IM error', escapeHtml(approval.error)] as [string, string]]
      : []),
    [
      'Requested by',
      text(approval.requester && explainRequester(approval.requester)),
    ],
    ['Template', text(approval.template)],
    ['Approvers', text(approval.approvers.join(', '))],
    ...(approval.cc.length > 0
      ? [['CC', text(approval.cc.join(', '))] as [string, string]]
      : []),
    ['IM', im],
    timing,
    ['Approval id', `<code>${approval.id}</code>`],
  ];
  await core.summary
    .addHeading(
      `${HEADINGS[approval.status]}: ${escapeHtml(approval.title)}`,
      3,
    )
    .addTable(
      rows.map(([name, value]) => [{ data: name, header: true }, value]),
    )
    .write();
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, c => `&#${c.charCodeAt(0)};`);
}
