export { imApprovalPlugin as default } from './plugin';
