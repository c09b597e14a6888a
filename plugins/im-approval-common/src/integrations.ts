import { z } from 'zod';
import { hasNoNul, NUL_MESSAGE, storableText, TEXT_LIMITS } from './text';

/**
 * An integration's id: it is a URL path segment and a varchar(64) key.
 *
 * @public
 */
export const integrationIdSchema = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9-]{0,63}$/,
    'expected lower-case letters, digits and dashes (at most 64, starting with a letter or digit)',
  );

/**
 * The longest IM form id accepted; real ones are 20 to 60 characters.
 *
 * @public
 */
export const FORM_ID_MAX_LENGTH = 128;

/**
 * An IM form's id: Feishu's approval_code (a UUID such as `7C468A54-8745-2245-9675-08B7C63E7A85`),
 * DingTalk's processCode (`PROC-…`), WeCom's template_id (letters and digits, with `_` in copied
 * templates). It becomes a path segment or a parameter of a call to the IM, so it has no `/`, no
 * `.` or `..` of its own, no whitespace and no control characters.
 *
 * @public
 */
export const formIdSchema = z
  .string()
  .max(FORM_ID_MAX_LENGTH, `expected at most ${FORM_ID_MAX_LENGTH} characters`)
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9_.-]*$/,
    "expected the IM form's id (Feishu approval_code, DingTalk processCode, WeCom template_id): letters, digits, dashes, underscores and dots, starting with a letter or digit",
  );

/**
 * How decisions reach the backend: an HTTP `callback` from the IM, a connection the backend holds
 * to the IM (Feishu `long-connection`, DingTalk `stream`), or `poll` alone. The reconciler reads
 * the IM behind every mode.
 *
 * @public
 */
export const connectionModeSchema = z
  .enum(['callback', 'long-connection', 'stream', 'poll'])
  .meta({ id: 'ConnectionMode' });
/** @public */
export type ConnectionMode = z.infer<typeof connectionModeSchema>;

/**
 * The modes each built-in provider supports, the first being the default.
 *
 * @public
 */
export const PROVIDER_CONNECTION_MODES = {
  feishu: ['callback', 'long-connection', 'poll'],
  dingtalk: ['callback', 'stream', 'poll'],
  wecom: ['callback', 'poll'],
} as const satisfies Record<string, readonly ConnectionMode[]>;

function modeOf<const M extends readonly [ConnectionMode, ...ConnectionMode[]]>(
  modes: M,
) {
  return z.enum(modes).default(modes[0]);
}

const trimmedUrl = (url: string) => url.replace(/\/+$/, '');

/** Fields every integration has, whatever its IM. */
const commonFields = {
  id: integrationIdSchema,
  title: storableText(TEXT_LIMITS.title).optional(),
  /** The user the app opens approvals on behalf of: an IM user id, an email or a mobile. */
  initiator: storableText(TEXT_LIMITS.person, { min: 1 }),
  /** A link to an instance for people, with `{instanceId}` in it. */
  instanceUrl: storableText(TEXT_LIMITS.url)
    .includes('{instanceId}')
    .optional(),
};

/** An API base URL. */
const baseUrlSchema = z
  .url()
  .max(TEXT_LIMITS.url, `expected at most ${TEXT_LIMITS.url} characters`)
  .refine(hasNoNul, NUL_MESSAGE);
/** An app id, corp id or AppKey from an IM console. */
const appIdSchema = storableText(TEXT_LIMITS.appId, { min: 1 });
/** A secret, token or key from an IM console. */
const secretSchema = storableText(TEXT_LIMITS.secret, { min: 1 });

const CALLBACK_REASON =
  'required when connectionMode is callback (it verifies and decrypts callbacks)';

/** Callback secrets are needed only when the IM calls us over HTTP. */
function requiredForCallbacks<K extends string>(fields: Record<K, string>) {
  return (
    integration: { connectionMode: ConnectionMode } & Partial<
      Record<K, unknown>
    >,
    ctx: z.RefinementCtx,
  ) => {
    if (integration.connectionMode !== 'callback') return;
    for (const [field, message] of Object.entries(fields) as Array<
      [K, string]
    >) {
      if (!integration[field])
        ctx.addIssue({ code: 'custom', path: [field], message });
    }
  };
}

const FEISHU_DOMAINS = {
  feishu: 'https://open.feishu.cn',
  lark: 'https://open.larksuite.com',
} as const;

/** @public */
export const feishuIntegrationSchema = z
  .object({
    ...commonFields,
    provider: z.literal('feishu'),
    /** `feishu` (China) or `lark` (international); `baseUrl` overrides it (private or local endpoints). */
    domain: z.enum(['feishu', 'lark']).default('feishu'),
    baseUrl: baseUrlSchema.optional(),
    appId: appIdSchema,
    appSecret: secretSchema,
    verificationToken: secretSchema,
    /** Required for callbacks: Feishu then encrypts and signs them. */
    encryptKey: secretSchema.optional(),
    connectionMode: modeOf(PROVIDER_CONNECTION_MODES.feishu),
  })
  .superRefine(
    requiredForCallbacks({
      // Without an Encrypt Key Feishu sends callbacks in plain JSON, unsigned, proven only by the
      // verification token they carry.
      encryptKey:
        'required when connectionMode is callback: without it Feishu neither encrypts nor signs callbacks; ' +
        'set the Encrypt Key from Events and callbacks → Encryption strategy (or use long-connection or poll)',
    }),
  )
  .transform(integration => ({
    ...integration,
    apiBaseUrl: trimmedUrl(
      integration.baseUrl ?? FEISHU_DOMAINS[integration.domain],
    ),
  }));
/** @public */
export type FeishuIntegration = z.output<typeof feishuIntegrationSchema>;

/** WXBizMsgCrypt EncodingAESKey: 43 characters of base64 without the trailing `=`. */
const encodingAesKeySchema = z
  .string()
  .regex(
    /^[A-Za-z0-9+/]{43}$/,
    'expected the 43-character key from the IM console',
  );

/** @public */
export const dingtalkIntegrationSchema = z
  .object({
    ...commonFields,
    provider: z.literal('dingtalk'),
    /** The new API (`api.dingtalk.com`); overridable for the sandbox. The Stream gateway is opened here too. */
    baseUrl: baseUrlSchema.default('https://api.dingtalk.com'),
    /** The legacy API (`oapi.dingtalk.com`), for the user lookup by mobile. */
    legacyBaseUrl: baseUrlSchema.default('https://oapi.dingtalk.com'),
    /** AppKey (Client ID); also the receiveId of the app's encrypted callbacks unless `receiveId` says otherwise. */
    appKey: appIdSchema,
    /** AppSecret (Client Secret). */
    appSecret: secretSchema,
    /** The callback token and aes_key from the console's event subscription. */
    token: secretSchema.optional(),
    aesKey: encodingAesKeySchema.optional(),
    /**
     * The receiveId ("ownerKey") callbacks are encrypted for, when it is not the AppKey: the CorpId
     * for an older corp-level registration of the callback (the suiteKey for ISV apps).
     */
    receiveId: z.string().trim().min(1).optional(),
    /** The app's AgentId, sent as `microappAgentId` with new instances when set. */
    agentId: z.coerce.number().int().positive().optional(),
    connectionMode: modeOf(PROVIDER_CONNECTION_MODES.dingtalk),
  })
  .superRefine(
    requiredForCallbacks({ token: CALLBACK_REASON, aesKey: CALLBACK_REASON }),
  )
  .transform(integration => ({
    ...integration,
    baseUrl: trimmedUrl(integration.baseUrl),
    legacyBaseUrl: trimmedUrl(integration.legacyBaseUrl),
  }));
/** @public */
export type DingtalkIntegration = z.output<typeof dingtalkIntegrationSchema>;

/** @public */
export const wecomIntegrationSchema = z
  .object({
    ...commonFields,
    provider: z.literal('wecom'),
    /** `https://qyapi.weixin.qq.com`; private deployments and the sandbox override it. */
    baseUrl: baseUrlSchema.default('https://qyapi.weixin.qq.com'),
    /** The Corp ID; also the receiveId of callbacks. */
    corpId: appIdSchema,
    agentId: z.coerce.number().int().positive(),
    /** The self-built app's Secret. */
    secret: secretSchema,
    /** Token and EncodingAESKey from the app's "receive messages" settings. */
    token: secretSchema.optional(),
    encodingAESKey: encodingAesKeySchema.optional(),
    connectionMode: modeOf(PROVIDER_CONNECTION_MODES.wecom),
  })
  .superRefine(
    requiredForCallbacks({
      token: CALLBACK_REASON,
      encodingAESKey: CALLBACK_REASON,
    }),
  )
  .transform(integration => ({
    ...integration,
    baseUrl: trimmedUrl(integration.baseUrl),
  }));
/** @public */
export type WecomIntegration = z.output<typeof wecomIntegrationSchema>;

/** @public */
export const integrationSchema = z.discriminatedUnion('provider', [
  feishuIntegrationSchema,
  dingtalkIntegrationSchema,
  wecomIntegrationSchema,
]);
/** @public */
export type Integration = z.output<typeof integrationSchema>;
/** @public */
export type ProviderId = Integration['provider'];
