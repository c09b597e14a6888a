import { z } from 'zod';

export const integrationIdSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'expected lower-case letters, digits and dashes');

/**
 * How decisions reach the backend: an HTTP `callback` from the IM, a connection the backend holds
 * to the IM (Feishu `long-connection`, DingTalk `stream`), or `poll` alone. The reconciler reads
 * the IM behind every mode.
 */
export const connectionModeSchema = z.enum(['callback', 'long-connection', 'stream', 'poll']).meta({ id: 'ConnectionMode' });
export type ConnectionMode = z.infer<typeof connectionModeSchema>;

/** The modes each built-in provider supports, the first being the default. */
export const PROVIDER_CONNECTION_MODES = {
  feishu: ['callback', 'long-connection', 'poll'],
  dingtalk: ['callback', 'stream', 'poll'],
  wecom: ['callback', 'poll'],
} as const satisfies Record<string, readonly ConnectionMode[]>;

function modeOf<const M extends readonly [ConnectionMode, ...ConnectionMode[]]>(modes: M) {
  return z.enum(modes).default(modes[0]);
}

const trimmedUrl = (url: string) => url.replace(/\/+$/, '');

/** Fields every integration has, whatever its IM. */
const commonFields = {
  id: integrationIdSchema,
  title: z.string().optional(),
  /** The user the app opens approvals on behalf of: an IM user id, an email or a mobile. */
  initiator: z.string().min(1),
  /** A link to an instance for people, with `{instanceId}` in it. */
  instanceUrl: z.string().includes('{instanceId}').optional(),
};

/** Callback secrets are needed only when the IM calls us over HTTP. */
function requiredForCallbacks<T extends { connectionMode: ConnectionMode }>(fields: Array<keyof T & string>) {
  return (integration: T, ctx: z.RefinementCtx) => {
    if (integration.connectionMode !== 'callback') return;
    for (const field of fields) {
      if (!integration[field]) {
        ctx.addIssue({ code: 'custom', path: [field], message: 'required when connectionMode is callback (it verifies and decrypts callbacks)' });
      }
    }
  };
}

const FEISHU_DOMAINS = {
  feishu: 'https://open.feishu.cn',
  lark: 'https://open.larksuite.com',
} as const;

export const feishuIntegrationSchema = z
  .object({
    ...commonFields,
    provider: z.literal('feishu'),
    /** `feishu` (China) or `lark` (international); `baseUrl` overrides it (private or local endpoints). */
    domain: z.enum(['feishu', 'lark']).default('feishu'),
    baseUrl: z.url().optional(),
    appId: z.string().min(1),
    appSecret: z.string().min(1),
    verificationToken: z.string().min(1),
    encryptKey: z.string().min(1).optional(),
    connectionMode: modeOf(PROVIDER_CONNECTION_MODES.feishu),
  })
  .transform(integration => ({
    ...integration,
    apiBaseUrl: trimmedUrl(integration.baseUrl ?? FEISHU_DOMAINS[integration.domain]),
  }));
export type FeishuIntegration = z.output<typeof feishuIntegrationSchema>;

/** WXBizMsgCrypt EncodingAESKey: 43 characters of base64 without the trailing `=`. */
const encodingAesKeySchema = z.string().regex(/^[A-Za-z0-9+/]{43}$/, 'expected the 43-character key from the IM console');

export const dingtalkIntegrationSchema = z
  .object({
    ...commonFields,
    provider: z.literal('dingtalk'),
    /** The new API (`api.dingtalk.com`); overridable for the sandbox. The Stream gateway is opened here too. */
    baseUrl: z.url().default('https://api.dingtalk.com'),
    /** The legacy API (`oapi.dingtalk.com`), for the user lookup by mobile. */
    legacyBaseUrl: z.url().default('https://oapi.dingtalk.com'),
    /** AppKey (Client ID); also the receiveId of the app's encrypted callbacks. */
    appKey: z.string().min(1),
    /** AppSecret (Client Secret). */
    appSecret: z.string().min(1),
    /** The callback token and aes_key from the console's event subscription. */
    token: z.string().min(1).optional(),
    aesKey: encodingAesKeySchema.optional(),
    /** The app's AgentId, sent as `microappAgentId` with new instances when set. */
    agentId: z.coerce.number().int().positive().optional(),
    connectionMode: modeOf(PROVIDER_CONNECTION_MODES.dingtalk),
  })
  .superRefine(requiredForCallbacks(['token', 'aesKey']))
  .transform(integration => ({
    ...integration,
    baseUrl: trimmedUrl(integration.baseUrl),
    legacyBaseUrl: trimmedUrl(integration.legacyBaseUrl),
  }));
export type DingtalkIntegration = z.output<typeof dingtalkIntegrationSchema>;

export const wecomIntegrationSchema = z
  .object({
    ...commonFields,
    provider: z.literal('wecom'),
    /** `https://qyapi.weixin.qq.com`; private deployments and the sandbox override it. */
    baseUrl: z.url().default('https://qyapi.weixin.qq.com'),
    /** The Corp ID; also the receiveId of callbacks. */
    corpId: z.string().min(1),
    agentId: z.coerce.number().int().positive(),
    /** The self-built app's Secret. */
    secret: z.string().min(1),
    /** Token and EncodingAESKey from the app's "receive messages" settings. */
    token: z.string().min(1).optional(),
    encodingAESKey: encodingAesKeySchema.optional(),
    connectionMode: modeOf(PROVIDER_CONNECTION_MODES.wecom),
  })
  .superRefine(requiredForCallbacks(['token', 'encodingAESKey']))
  .transform(integration => ({ ...integration, baseUrl: trimmedUrl(integration.baseUrl) }));
export type WecomIntegration = z.output<typeof wecomIntegrationSchema>;

export const integrationSchema = z.discriminatedUnion('provider', [
  feishuIntegrationSchema,
  dingtalkIntegrationSchema,
  wecomIntegrationSchema,
]);
export type Integration = z.output<typeof integrationSchema>;
export type ProviderId = Integration['provider'];
