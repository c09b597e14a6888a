import type { ApprovalWithTimeline } from '@im-approval/plugin-im-approval-common';

export const ID = '6f1c1f9e-8a43-4a57-9a52-0d9b1d7c8e11';

/** An approval as the API answers it, pending unless told otherwise. */
export function approval(
  overrides: Partial<ApprovalWithTimeline> = {},
): ApprovalWithTimeline {
  return {
    id: ID,
    status: 'pending',
    template: 'deploy',
    integration: 'feishu-sandbox',
    provider: 'feishu',
    title: 'Deploy api',
    idempotencyKey: 'key',
    context: {
      repository: 'acme/api',
      verified: true,
      caller: 'github:acme/api',
    },
    variables: {},
    form: [],
    approvers: ['alice@example.com'],
    cc: [],
    stages: [],
    approverRefs: [],
    requester: null,
    nextReminderAt: null,
    escalateTo: [],
    escalatesAt: null,
    imInstanceId: 'INST-1',
    imUrl: 'https://im.example.com/INST-1',
    decidedBy: null,
    decidedById: null,
    comment: null,
    decidedAt: null,
    error: null,
    createdAt: '2026-11-21T08:00:00.000Z',
    updatedAt: '2026-11-21T08:00:00.000Z',
    expiresAt: '2026-11-21T09:00:00.000Z',
    timeline: [],
    ...overrides,
  };
}
