import {
  formatDuration,
  oneLine,
  type Approval,
} from '@im-approval/plugin-im-approval-common';

/** GitHub shows at most this much of a comment or status report. */
export const GITHUB_COMMENT_LIMIT = 1024;

const IM_NAMES: Record<string, string> = {
  feishu: 'Feishu/Lark',
  dingtalk: 'DingTalk',
  wecom: 'WeCom',
};

export function imName(provider: string): string {
  return IM_NAMES[provider] ?? provider;
}

/**
 * Text from people or IMs, made inert in GitHub's Markdown: every ASCII punctuation mark that could
 * start markup, a link or a mention is escaped, and line breaks become spaces.
 */
export function inertMarkdown(text: string): string {
  // Line breaks, NUL and the other control characters: GitHub would show or refuse them.
  return oneLine(text).replace(
    /[\\`*_{}[\]()<>#+\-.!|~@&]/g,
    mark => `\\${mark}`,
  );
}

/** Within GitHub's limit, cut at the end with an ellipsis. */
export function fitComment(text: string): string {
  return text.length <= GITHUB_COMMENT_LIMIT
    ? text
    : `${text.slice(0, GITHUB_COMMENT_LIMIT - 1)}…`;
}

function quoted(comment: string | null): string {
  return comment ? `: “${inertMarkdown(comment)}”` : '';
}

/** A Markdown link to an http(s) URL; characters that could end or break the link are %-escaped. */
function link(label: string, url: string | undefined | null): string {
  if (!url || !/^https?:\/\//.test(url)) return '';
  const safe = url.replace(
    /[\s()<>[\]`\\"']/g,
    char =>
      `%${char.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`,
  );
  return `[${label}](${safe})`;
}

/** The comment that goes with GitHub's verdict: who decided, in which IM, and why. */
export function verdictComment(
  approval: Approval,
  backstageUrl: string | undefined,
): { state: 'approved' | 'rejected'; comment: string } {
  const im = imName(approval.provider);
  const who = inertMarkdown(approval.decidedBy ?? 'someone');
  // An administrator's decision is recorded under their Backstage user, not an IM id.
  const where = /^user:[^/\s]+\/\S+$/.test(approval.decidedById ?? '')
    ? 'Backstage'
    : im;
  const details = link('Approval in Backstage', backstageUrl);
  const lines: Record<Approval['status'], string> = {
    pending: '',
    approved: `Approved by ${who} in ${where}${quoted(approval.comment)}`,
    rejected: `Rejected by ${who} in ${where}${quoted(approval.comment)}`,
    expired: `Rejected: nobody decided in ${im} within ${formatDuration(
      Math.round(
        (Date.parse(approval.expiresAt) - Date.parse(approval.createdAt)) /
          1000,
      ),
    )}; the approval expired`,
    canceled: `Rejected: the approval was cancelled by ${who}${quoted(approval.comment)}`,
    failed: `Rejected: the approval could not go on in ${im}${quoted(approval.error)}`,
  };
  return {
    state: approval.status === 'approved' ? 'approved' : 'rejected',
    comment: fitComment(
      [lines[approval.status], details].filter(Boolean).join(' · '),
    ),
  };
}

/** The status report while GitHub holds the job: of whom it was asked, where, and how long is left. */
export function waitingReport(
  approval: Approval,
  backstageUrl: string | undefined,
  now = Date.now(),
): string {
  const im = imName(approval.provider);
  const people = approval.approvers.map(inertMarkdown).join(', ');
  const left = Math.max(
    0,
    Math.round((Date.parse(approval.expiresAt) - now) / 1000),
  );
  const parts = [
    `Waiting for approval in ${im} from ${people}`,
    link(`Open in ${im}`, approval.imUrl),
    link('Approval in Backstage', backstageUrl),
    `${formatDuration(left)} left (until ${approval.expiresAt.replace(/\.\d+Z$/, 'Z')})`,
  ];
  return fitComment(parts.filter(Boolean).join(' · '));
}

/** The status report when the IM could not take the request yet: it is tried again. */
export function retryingReport(approval: Approval): string {
  return fitComment(
    `Could not open the approval in ${imName(approval.provider)} yet${quoted(approval.error)}; it is tried again shortly`,
  );
}

/** The verdict in our own words only, for when GitHub refuses the comment that had people's. */
export function plainVerdict(state: 'approved' | 'rejected'): string {
  return state === 'approved'
    ? 'Approved in IM approval (the comment could not be posted)'
    : 'Rejected in IM approval (the comment could not be posted)';
}
