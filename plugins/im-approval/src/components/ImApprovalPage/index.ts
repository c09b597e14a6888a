export { ImApprovalPage } from './ImApprovalPage';
