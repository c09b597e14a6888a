import {
  approvalSchema,
  type Approval,
  type ApprovalContext,
} from '@im-approval/plugin-im-approval-common';
import { randomUUID } from 'node:crypto';

export const SHA = '3f2a9c1d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a39';
export const EARLIER = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';

/** A pending approval of template `deploy` from a release run of acme/shop, its context as given. */
export function approvalWith(context: Partial<ApprovalContext> = {}): Approval {
  const now = new Date().toISOString();
  return approvalSchema.parse({
    id: randomUUID(),
    status: 'pending',
    template: 'deploy',
    integration: 'feishu-main',
    provider: 'feishu',
    title: 'Deploy shop',
    idempotencyKey: randomUUID(),
    context: {
      repository: 'acme/shop',
      ref: 'refs/heads/main',
      sha: SHA,
      environment: 'production',
      workflow: 'release',
      runId: '42',
      serverUrl: 'https://github.com',
      runUrl: 'https://github.com/acme/shop/actions/runs/42',
      verified: true,
      caller: 'github:acme/shop',
      ...context,
    },
    variables: {},
    form: [],
    approvers: ['alice'],
    requester: {
      name: 'Alice Chen',
      githubLogin: 'alice',
      identifiedBy: 'github-actor',
    },
    imInstanceId: null,
    imUrl: null,
    decidedBy: null,
    comment: null,
    decidedAt: null,
    error: null,
    createdAt: now,
    updatedAt: now,
    expiresAt: now,
  });
}
