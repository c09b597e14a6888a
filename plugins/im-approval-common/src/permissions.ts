import { createPermission } from '@backstage/plugin-permission-common';
import { z } from 'zod';

export const imApprovalIntegrationManagePermission = createPermission({
  name: 'im-approval.integration.manage',
  attributes: { action: 'update' },
});

export const imApprovalTemplateManagePermission = createPermission({
  name: 'im-approval.template.manage',
  attributes: { action: 'update' },
});

/** Needed by people signed in to Backstage to open approvals; workflows are held to the template's policy instead. */
export const imApprovalApprovalCreatePermission = createPermission({
  name: 'im-approval.approval.create',
  attributes: { action: 'create' },
});

export const imApprovalApprovalReadPermission = createPermission({
  name: 'im-approval.approval.read',
  attributes: { action: 'read' },
});

export const imApprovalApprovalDecidePermission = createPermission({
  name: 'im-approval.approval.decide',
  attributes: { action: 'update' },
});

export const imApprovalPermissions = [
  imApprovalIntegrationManagePermission,
  imApprovalTemplateManagePermission,
  imApprovalApprovalCreatePermission,
  imApprovalApprovalReadPermission,
  imApprovalApprovalDecidePermission,
];

/** GET /capabilities: what the signed-in user may do here, for showing or hiding controls. */
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
export type Capabilities = z.infer<typeof capabilitiesSchema>;
