import { InputError } from '@backstage/errors';
import {
  stagesOf,
  type Approval,
  type ApprovalStage,
  type Template,
} from '@im-approval/plugin-im-approval-common';
import type { ImStage } from '@im-approval/plugin-im-approval-node';

/**
 * Whether an approval's stages count approvals: some stage needs `atLeast` N of its approvers, which
 * no IM can say. Then every stage gives each approver a request of their own and the backend counts.
 */
export function counts(approval: Pick<Approval, 'stages'>): boolean {
  return approval.stages.some(stage => stage.atLeast !== null);
}

/**
 * The stages each IM request of the template holds, as the IM form must take them: a counting
 * template's requests each ask one approver in one node.
 */
export function requestStagesOf(template: Template): ImStage[] {
  const stages = stagesOf(template);
  if (!stages.some(stage => stage.atLeast !== undefined)) return stages;
  const [first] = stages;
  return [
    {
      ...(first.name ? { name: first.name } : {}),
      approvers: first.approvers.slice(0, 1),
      rule: 'all',
    },
  ];
}

/** How many approvals a stage needs. */
export function needed(stage: ApprovalStage): number {
  if (stage.atLeast !== null) return stage.atLeast;
  return stage.rule === 'all' ? stage.approvers.length : 1;
}

/**
 * The stages an approval keeps, from its template and each stage's people as resolved when it was
 * opened: none for a single stage the IM decides by itself.
 */
export function approvalStagesOf(
  template: Template,
  people: string[][],
): ApprovalStage[] {
  const stages = stagesOf(template);
  const counting = stages.some(stage => stage.atLeast !== undefined);
  if (!counting && stages.length < 2) return [];
  return stages.map((stage, i) => {
    const approvers = people[i];
    const atLeast = counting
      ? (stage.atLeast ?? (stage.rule === 'all' ? approvers.length : 1))
      : null;
    if (atLeast !== null && atLeast > approvers.length)
      throw new InputError(
        `template "${template.name}" stages[${i}].atLeast: ${atLeast} must approve, but the stage asks ${approvers.length} (${approvers.join(', ')})`,
      );
    return {
      name: stage.name ?? null,
      rule: stage.rule,
      approvers,
      status: i === 0 ? 'pending' : 'waiting',
      approvedBy: [],
      waitingOn: i === 0 ? approvers : [],
      atLeast,
      rejectedBy: [],
      requests: counting
        ? approvers.map(approver => ({
            approver,
            instanceId: null,
            url: null,
            status: 'pending' as const,
            decidedBy: null,
            comment: null,
            decidedAt: null,
          }))
        : [],
    };
  });
}
