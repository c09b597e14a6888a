/**
 * The scaffolder action `im-approval:request`: a software template step that waits for an
 * approval in Feishu/Lark, DingTalk or WeCom.
 *
 * @packageDocumentation
 */
export { scaffolderModuleImApproval as default } from './module';
export { createRequestApprovalAction } from './actions/requestApproval';
