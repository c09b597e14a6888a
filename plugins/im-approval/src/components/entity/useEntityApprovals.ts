import { useApi } from '@backstage/core-plugin-api';
import { useEntity } from '@backstage/plugin-catalog-react';
import {
  CATALOG_ANNOTATIONS,
  type Approval,
} from '@im-approval/plugin-im-approval-common';
import { useState } from 'react';
import useAsyncRetry from 'react-use/esm/useAsyncRetry';
import { imApprovalApiRef } from '../../api/ImApprovalApi';
import { useApprovalChanges } from '../shared/useApprovalChanges';

/** The annotation that names a component's GitHub repository (`owner/name`). */
export const PROJECT_SLUG_ANNOTATION = CATALOG_ANNOTATIONS.projectSlug;

/**
 * The approvals of the entity's repository: every pending one first, then the latest decided,
 * read again when the backend signals a change. Undefined `repository` when the entity has no
 * `github.com/project-slug`.
 */
export function useEntityApprovals(decidedLimit: number) {
  const { entity } = useEntity();
  const repository = entity.metadata.annotations?.[PROJECT_SLUG_ANNOTATION];
  const api = useApi(imApprovalApiRef);
  const [shown] = useState(() => new Set<string>());
  const state = useAsyncRetry(async () => {
    if (!repository) return [];
    const [pending, recent] = await Promise.all([
      api.listApprovals({ repository, status: 'pending', limit: 100 }),
      api.listApprovals({ repository, limit: 50 }),
    ]);
    const decided = recent.items.filter(a => a.status !== 'pending');
    const approvals: Approval[] = [
      ...pending.items,
      ...decided.slice(0, decidedLimit),
    ];
    shown.clear();
    approvals.forEach(a => shown.add(a.id));
    return approvals;
  }, [api, repository, decidedLimit]);
  // A change to one shown, or a new pending one (it may be this repository's), reads the list again.
  useApprovalChanges(changes => {
    if (changes.some(c => shown.has(c.id) || c.status === 'pending'))
      state.retry();
  });
  return { repository, ...state };
}
