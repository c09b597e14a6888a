import { createPermission } from '@backstage/plugin-permission-common';

export const imApprovalIntegrationManagePermission = createPermission({
  name: 'im-approval.integration.manage',
  attributes: { action: 'update' },
});

export const imApprovalTemplateManagePermission = createPermission({
  name: 'im-approval.template.manage',
  attributes: { action: 'update' },
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
  imApprovalApprovalReadPermission,
  imApprovalApprovalDecidePermission,
];
