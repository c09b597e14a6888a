export { imApprovalPlugin as default } from './plugin';
export {
  approvalConditions,
  approvalPermissionRules,
  approvalResourceRef,
  createApprovalConditionalDecision,
  type ApprovalQuery,
  type ApprovalResource,
} from './permissions/approvalRules';
