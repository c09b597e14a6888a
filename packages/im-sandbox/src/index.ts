/**
 * A local stand-in for the IM open platforms (Feishu/Lark, DingTalk, WeCom): their APIs, signed and
 * encrypted callbacks, an approver inbox, and a control API for tests.
 */
export { startSandbox } from './server';
export type { Sandbox, SandboxOptions, SandboxSeed } from './server';
export type {
  FeishuAppSeed,
  FeishuApprovalSeed,
  FeishuUserSeed,
} from './feishu/seed';
export type { DeliveryControl, ImDeliveryRecord } from './delivery/log';
export type {
  WecomAppSeed,
  WecomSeed,
  WecomTemplateSeed,
  WecomUserSeed,
} from './wecom/seed';
export type { DeliveryRecord } from './feishu/events';
export { FEISHU_RETRY_DELAYS_MS, feishuRetryDelaysMs } from './feishu/events';
export type { FaultRoute, FeishuStats } from './feishu/state';
export type { ApproverView, InstanceView } from './feishu/views';
export { startGithubOidcIssuer } from './github/oidcIssuer';
export type {
  HeldJobRequest,
  GithubAppSeed,
  GithubJob,
  GithubPlatform,
  GithubRun,
  WebhookDelivery,
} from './github/githubPlatform';
export type {
  GithubOidcIssuer,
  GithubRunClaims,
  SignOptions,
} from './github/oidcIssuer';
