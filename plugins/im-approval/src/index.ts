export {
  imApprovalPlugin,
  ImApprovalPage,
  EntityImApprovalsCard,
  EntityImApprovalsContent,
} from './plugin';
export {
  imApprovalApiRef,
  type ImApprovalApi,
  type ApprovalsFilter,
} from './api/ImApprovalApi';
export { ImApprovalClient } from './api/ImApprovalClient';
