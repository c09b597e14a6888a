import { z } from 'zod';
import { hasNoNul, NUL_MESSAGE, TEXT_LIMITS } from './text';

/*
 * The messages below complete a sentence whose subject is the field: the API prefixes the field's
 * path ("body.agentId: must be a number"), a form its label ("AgentID must be a number").
 */

const REQUIRED = 'is required';

/** Text the database can store, with messages in words for a missing or wrong value. */
function text(max: number, options: { required?: boolean } = {}) {
  const base = z.string({
    error: issue => (issue.input === undefined ? REQUIRED : 'must be text'),
  });
  return (options.required ? base.min(1, REQUIRED) : base)
    .max(max, `must be at most ${max} characters`)
    .refine(hasNoNul, NUL_MESSAGE);
}

/** A positive whole number, also given as text (a form or an environment variable). */
function positiveInteger() {
  return z.preprocess(
    value =>
      typeof value === 'string' && value.trim() !== '' ? Number(value) : value,
    z
      .number({
        error: issue =>
          issue.input === undefined ? REQUIRED : 'must be a number',
      })
      .int('must be a whole number')
      .positive('must be greater than 0'),
  );
}

/** One of a few values, naming them all when another is given. */
function oneOf<const V extends readonly [string, ...string[]]>(values: V) {
  return z.enum(values, {
    error: `must be one of ${values.join(', ')}`,
  });
}

/**
 * An integration's id: it is a URL path segment and a varchar(64) key.
 *
 * @public
 */
export const integrationIdSchema = z
  .string({
    error: issue => (issue.input === undefined ? REQUIRED : 'must be text'),
  })
  .regex(
    /^[a-z0-9][a-z0-9-]{0,63}$/,
    'must be lower-case letters, digits and dashes (at most 64, starting with a letter or digit)',
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
  return oneOf(modes).default(modes[0]);
}

const trimmedUrl = (url: string) => url.replace(/\/+$/, '');

/** Fields every integration has, whatever its IM. */
const commonFields = {
  id: integrationIdSchema,
  title: text(TEXT_LIMITS.title).optional(),
  /** The user the app opens approvals on behalf of: an IM user id, an email or a mobile. */
  initiator: text(TEXT_LIMITS.person, { required: true }),
  /** A link to an instance for people, with `{instanceId}` in it. */
  instanceUrl: text(TEXT_LIMITS.url)
    .includes('{instanceId}', {
      error: 'must contain {instanceId} where the instance id goes',
    })
    .optional(),
};

/** An API base URL. */
const baseUrlSchema = z
  .url({ error: 'must be a URL such as https://api.example.com' })
  .max(TEXT_LIMITS.url, `must be at most ${TEXT_LIMITS.url} characters`)
  .refine(hasNoNul, NUL_MESSAGE);
/** An app id, corp id or AppKey from an IM console. */
const appIdSchema = text(TEXT_LIMITS.appId, { required: true });
/** A secret, token or key from an IM console. */
const secretSchema = text(TEXT_LIMITS.secret, { required: true });

/** Why a callback secret is required, and that the connection modes without callbacks do without it. */
const forCallbacks = (why: string, otherModes: string) =>
  `is required when connectionMode is callback: ${why} (not needed with ${otherModes})`;

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

/** Checks callback secrets even when other fields are wrong, so one answer names every problem. */
const ALONG_WITH_FIELD_ISSUES = {
  when: (payload: { value: unknown }) =>
    typeof payload.value === 'object' && payload.value !== null,
};

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
    domain: oneOf(['feishu', 'lark']).default('feishu'),
    baseUrl: baseUrlSchema.optional(),
    appId: appIdSchema,
    appSecret: secretSchema,
    /** Required for callbacks, which carry it; a long connection or polling needs neither secret. */
    verificationToken: secretSchema.optional(),
    /** Required for callbacks: Feishu then encrypts and signs them. */
    encryptKey: secretSchema.optional(),
    connectionMode: modeOf(PROVIDER_CONNECTION_MODES.feishu),
  })
  .superRefine(
    requiredForCallbacks({
      verificationToken: forCallbacks(
        'Feishu sends it in every callback; copy it from Events and callbacks → Encryption strategy',
        'long-connection or poll',
      ),
      // Without an Encrypt Key Feishu sends callbacks in plain JSON, unsigned, proven only by the
      // verification token they carry.
      encryptKey:
        'is required when connectionMode is callback: without it Feishu neither encrypts nor signs callbacks; ' +
        'set the Encrypt Key from Events and callbacks → Encryption strategy (or use long-connection or poll)',
    }),
    ALONG_WITH_FIELD_ISSUES,
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
    'must be the 43-character key from the IM console (letters, digits, + and /)',
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
    receiveId: z
      .string({ error: 'must be text' })
      .trim()
      .min(1, REQUIRED)
      .optional(),
    /** The app's AgentId, sent as `microappAgentId` with new instances when set. */
    agentId: positiveInteger().optional(),
    /**
     * The card platform template (卡片模板 ID) group chat cards are made from, built and published
     * in DingTalk's card designer with the variables the README lists. Cards need `stream`.
     */
    cardTemplateId: z
      .string({ error: 'must be text' })
      .trim()
      .min(1, REQUIRED)
      .optional(),
    connectionMode: modeOf(PROVIDER_CONNECTION_MODES.dingtalk),
  })
  .superRefine(
    requiredForCallbacks({
      token: forCallbacks(
        'it verifies the callbacks DingTalk signs with it',
        'stream or poll',
      ),
      aesKey: forCallbacks(
        'it decrypts the callbacks DingTalk encrypts with it',
        'stream or poll',
      ),
    }),
    ALONG_WITH_FIELD_ISSUES,
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
    agentId: positiveInteger(),
    /** The self-built app's Secret. */
    secret: secretSchema,
    /** Token and EncodingAESKey from the app's "receive messages" settings. */
    token: secretSchema.optional(),
    encodingAESKey: encodingAesKeySchema.optional(),
    connectionMode: modeOf(PROVIDER_CONNECTION_MODES.wecom),
  })
  .superRefine(
    requiredForCallbacks({
      token: forCallbacks(
        'it verifies the callbacks WeCom signs with it',
        'poll',
      ),
      encodingAESKey: forCallbacks(
        'it decrypts the callbacks WeCom encrypts with it',
        'poll',
      ),
    }),
    ALONG_WITH_FIELD_ISSUES,
  )
  .transform(integration => ({
    ...integration,
    baseUrl: trimmedUrl(integration.baseUrl),
  }));
/** @public */
export type WecomIntegration = z.output<typeof wecomIntegrationSchema>;

/** @public */
export const integrationSchema = z.discriminatedUnion(
  'provider',
  [feishuIntegrationSchema, dingtalkIntegrationSchema, wecomIntegrationSchema],
  { error: 'must be one of feishu, dingtalk, wecom' },
);
/** @public */
export type Integration = z.output<typeof integrationSchema>;
/** @public */
export type ProviderId = Integration['provider'];
