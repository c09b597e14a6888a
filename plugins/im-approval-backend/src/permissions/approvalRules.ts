import {
  createConditionExports,
  createPermissionResourceRef,
  createPermissionRule,
} from '@backstage/plugin-permission-node';
import {
  IM_APPROVAL_RESOURCE_TYPE,
  type Approval,
} from '@im-approval/plugin-im-approval-common';
import { minimatch } from 'minimatch';
import { z } from 'zod';

/**
 * An approval as the permission rules see it: with the owners (catalog refs, lower case) of the
 * components whose `github.com/project-slug` is its repository.
 *
 * @public
 */
export interface ApprovalResource {
  approval: Approval;
  repositoryOwners: string[];
}

/**
 * What a rule's query says; approvals are never listed by conditions, so no store reads it.
 *
 * @public
 */
export type ApprovalQuery = Record<string, string[]>;

/** @public */
export const approvalResourceRef = createPermissionResourceRef<
  ApprovalResource,
  ApprovalQuery
>().with({ pluginId: 'im-approval', resourceType: IM_APPROVAL_RESOURCE_TYPE });

const claimsSchema = z.object({
  claims: z
    .array(z.string())
    .describe(
      "The user's ownership entity refs: their user ref and their groups' (user.info.ownershipEntityRefs)",
    ),
});

const lower = (refs: string[]) =>
  new Set(refs.map(ref => ref.toLocaleLowerCase('en-US')));

const isRepositoryOwner = createPermissionRule({
  name: 'IS_REPOSITORY_OWNER',
  description:
    "Allow the owners of the catalog component whose github.com/project-slug is the approval's repository",
  resourceRef: approvalResourceRef,
  paramsSchema: claimsSchema,
  apply: (resource, { claims }) => {
    const mine = lower(claims);
    return resource.repositoryOwners.some(owner => mine.has(owner));
  },
  toQuery: ({ claims }) => ({ repositoryOwners: claims }),
});

const isRequester = createPermissionRule({
  name: 'IS_REQUESTER',
  description: 'Allow the person who asked for the approval',
  resourceRef: approvalResourceRef,
  paramsSchema: claimsSchema,
  apply: (resource, { claims }) => {
    const requester = resource.approval.requester?.entityRef;
    return requester !== undefined && lower(claims).has(requester);
  },
  toQuery: ({ claims }) => ({ requester: claims }),
});

const hasRepository = createPermissionRule({
  name: 'HAS_REPOSITORY',
  description:
    'Allow approvals whose repository matches one of these globs (acme/*)',
  resourceRef: approvalResourceRef,
  paramsSchema: z.object({
    repositories: z.array(z.string()).describe('owner/name globs'),
  }),
  apply: (resource, { repositories }) =>
    repositories.some(pattern =>
      minimatch(resource.approval.context.repository, pattern, {
        nocase: true,
      }),
    ),
  toQuery: ({ repositories }) => ({ repositories }),
});

/** @public */
export const approvalPermissionRules = {
  isRepositoryOwner,
  isRequester,
  hasRepository,
};

const conditionExports = createConditionExports({
  resourceRef: approvalResourceRef,
  rules: approvalPermissionRules,
});

/**
 * Conditions for a permission policy on `im-approval.approval.decide`, e.g.
 * `approvalConditions.isRepositoryOwner({ claims: user.info.ownershipEntityRefs })`.
 *
 * @public
 */
export const approvalConditions = conditionExports.conditions;

/** @public */
export const createApprovalConditionalDecision =
  conditionExports.createConditionalDecision;
