import { createPermission } from '@backstage/plugin-permission-common';
import { z } from 'zod';

/** @public */
export const imApprovalIntegrationManagePermission = createPermission({
  name: 'im-approval.integration.manage',
  attributes: { action: 'update' },
});

/** @public */
export const imApprovalTemplateManagePermission = createPermission({
  name: 'im-approval.template.manage',
  attributes: { action: 'update' },
});

/**
 * Needed by people signed in to Backstage to open approvals; workflows are held to the template's policy instead.
 *
 * @public
 */
export const imApprovalApprovalCreatePermission = createPermission({
  name: 'im-approval.approval.create',
  attributes: { action: 'create' },
});

/** @public */
export const imApprovalApprovalReadPermission = createPermission({
  name: 'im-approval.approval.read',
  attributes: { action: 'read' },
});

/**
 * The resource type of approvals, for conditional decisions on them (see the backend's `approvalConditions`).
 *
 * @public
 */
export const IM_APPROVAL_RESOURCE_TYPE = 'im-approval-approval';

/**
 * Cancel an approval, or decide it outside the IM. A resource permission: a policy may allow it
 * conditionally, e.g. to the owners of the component whose repository asked.
 *
 * @public
 */
export const imApprovalApprovalDecidePermission = createPermission({
  name: 'im-approval.approval.decide',
  attributes: { action: 'update' },
  resourceType: IM_APPROVAL_RESOURCE_TYPE,
});

/** @public */
export const imApprovalPermissions = [
  imApprovalIntegrationManagePermission,
  imApprovalTemplateManagePermission,
  imApprovalApprovalCreatePermission,
  imApprovalApprovalReadPermission,
  imApprovalApprovalDecidePermission,
];

/**
 * GET /capabilities: what the signed-in user may do here, for showing or hiding controls.
 *
 * @public
 */
export const capabilitiesSchema = z
  .object({
    manageIntegrations: z.boolean(),
    manageTemplates: z.boolean(),
    readApprovals: z.boolean(),
    decideApprovals: z.boolean(),
    /** False when no secrets key is configured: integrations cannot be added in the UI then. */
    databaseSettings: z.boolean(),
  })
  .meta({ id: 'Capabilities' });
/** @public */
export type Capabilities = z.infer<typeof capabilitiesSchema>;
