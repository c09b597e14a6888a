import { z } from 'zod';
import {
  connectionModeSchema,
  integrationIdSchema,
  integrationSchema,
  type ProviderId,
} from './integrations';
import { settingsSourceSchema } from './settingsSource';

type IntegrationInput = z.input<typeof integrationSchema>;
type InputOf<P extends ProviderId> = Extract<IntegrationInput, { provider: P }>;

/**
 * The fields of each provider's integration that are secrets: written through the API, stored
 * encrypted, never read back. A new provider adds its line here and nowhere else.
 *
 * @public
 */
export const INTEGRATION_SECRET_FIELDS = {
  feishu: ['appSecret', 'verificationToken', 'encryptKey'],
  dingtalk: ['appSecret', 'token', 'aesKey'],
  wecom: ['secret', 'token', 'encodingAESKey'],
} as const satisfies {
  [P in ProviderId]: ReadonlyArray<keyof InputOf<P> & string>;
};

type SecretsOf<P extends ProviderId> =
  (typeof INTEGRATION_SECRET_FIELDS)[P][number];
/** @public */
export type IntegrationSecretField = SecretsOf<ProviderId>;

/** @public */
export function secretFieldsOf(
  provider: ProviderId,
): readonly IntegrationSecretField[] {
  return INTEGRATION_SECRET_FIELDS[provider];
}

/** The object schema of every provider behind `integrationSchema` (a union, a pipe or an object). */
function providerObjects(schema: z.ZodType = integrationSchema): z.ZodObject[] {
  if (schema instanceof z.ZodDiscriminatedUnion)
    return schema.options.flatMap(option =>
      providerObjects(option as z.ZodType),
    );
  if (schema instanceof z.ZodPipe)
    return providerObjects(schema.in as z.ZodType);
  // Its fields only: a provider's cross-field checks (callback secrets) apply to whole integrations,
  // which the backend validates again after merging an update with the stored secrets.
  if (schema instanceof z.ZodObject) return [z.object(schema.shape)];
  throw new Error('integrationSchema must be built from object schemas');
}

function providerOf(object: z.ZodObject): ProviderId {
  return (object.shape.provider as z.ZodLiteral<ProviderId>).value;
}

function byProvider(objects: z.ZodObject[]) {
  const [first, ...rest] = objects;
  return rest.length === 0
    ? first
    : z.discriminatedUnion('provider', [first, ...rest]);
}

/**
 * POST /integrations: a whole integration, secrets included.
 *
 * @public
 */
export const createIntegrationRequestSchema = integrationSchema.meta({
  id: 'CreateIntegrationRequest',
});
/** @public */
export type CreateIntegrationRequest = z.input<
  typeof createIntegrationRequestSchema
>;

/**
 * PUT /integrations/{id}: the same as create, but a secret left out keeps its stored value and an
 * optional secret sent as `null` is removed. `id` and `provider` must not change.
 *
 * @public
 */
export type UpdateIntegrationRequest = {
  [P in ProviderId]: Omit<InputOf<P>, SecretsOf<P>> & {
    [K in SecretsOf<P>]?: InputOf<P>[K & keyof InputOf<P>] | null;
  };
}[ProviderId];
/** A secret field as create takes it, also `null` (remove it) or left out (keep it). */
function keepOrRemove(field: z.ZodType): z.ZodType {
  const value =
    field instanceof z.ZodOptional ? (field.unwrap() as z.ZodType) : field;
  return value.nullable().optional();
}

/** @public */
export const updateIntegrationRequestSchema = byProvider(
  providerObjects().map(object =>
    object.extend(
      Object.fromEntries(
        secretFieldsOf(providerOf(object)).map(field => [
          field,
          keepOrRemove(object.shape[field] as z.ZodType),
        ]),
      ),
    ),
  ),
).meta({
  id: 'UpdateIntegrationRequest',
}) as unknown as z.ZodType<UpdateIntegrationRequest>;

/**
 * What the API shows of an integration: never a secret, only whether each one is set.
 *
 * @public
 */
export type IntegrationView = {
  [P in ProviderId]: Omit<InputOf<P>, SecretsOf<P>> & {
    /** Whether each secret has a value. */
    secrets: { [K in SecretsOf<P>]: boolean };
    source: z.infer<typeof settingsSourceSchema>;
    /** False for integrations from app-config: they change only there. */
    editable: boolean;
    /** The IM's event request URL, relative to the plugin's base URL (`/api/im-approval`). */
    callbackPath: string;
  };
}[ProviderId];
/** @public */
export const integrationViewSchema = byProvider(
  providerObjects().map(object => {
    const secrets = secretFieldsOf(providerOf(object));
    return object
      .omit(
        Object.fromEntries(secrets.map(field => [field, true])) as Record<
          string,
          true
        >,
      )
      .extend({
        secrets: z.object(
          Object.fromEntries(secrets.map(field => [field, z.boolean()])),
        ),
        source: settingsSourceSchema,
        editable: z.boolean(),
        callbackPath: z.string(),
      });
  }),
).meta({ id: 'IntegrationView' }) as unknown as z.ZodType<IntegrationView>;

/** @public */
export const integrationListSchema = z
  .object({ items: z.array(integrationViewSchema) })
  .meta({ id: 'IntegrationList' });
/** @public */
export type IntegrationList = z.infer<typeof integrationListSchema>;

/**
 * Why a connection test failed, for an icon or a help link; the message says what to do
 * ("Invalid app secret for app …", "… is not published …", "… IP address is not allowed …").
 *
 * @public
 */
export const integrationProblemSchema = z
  .enum([
    'credentials',
    'permission',
    'not_found',
    'invalid_request',
    'rate_limited',
    'unavailable',
    'unknown',
  ])
  .meta({ id: 'IntegrationProblem' });
/** @public */
export type IntegrationProblem = z.infer<typeof integrationProblemSchema>;

/**
 * POST /integrations/{id}/test: a failed test is still a 200; `ok` says how it went.
 *
 * @public
 */
export const integrationTestResultSchema = z
  .discriminatedUnion('ok', [
    z.object({
      ok: z.literal(true),
      message: z.string(),
      durationMs: z.number(),
    }),
    z.object({
      ok: z.literal(false),
      problem: integrationProblemSchema,
      message: z.string(),
      /** The IM's own error code, when it gave one. */
      code: z.union([z.string(), z.number()]).optional(),
      durationMs: z.number(),
    }),
  ])
  .meta({ id: 'IntegrationTestResult' });
/** @public */
export type IntegrationTestResult = z.infer<typeof integrationTestResultSchema>;

/** @public */
export const formFieldSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    type: z.string(),
    required: z.boolean(),
  })
  .meta({ id: 'FormField' });
/** @public */
export type FormField = z.infer<typeof formFieldSchema>;

/**
 * GET /integrations/{id}/forms/{formId}: the IM form's fields, for the template's field mapping.
 *
 * @public
 */
export const formDescriptionSchema = z
  .object({
    integration: z.string(),
    form: z.string(),
    fields: z.array(formFieldSchema),
  })
  .meta({ id: 'FormDescription' });
/** @public */
export type FormDescription = z.infer<typeof formDescriptionSchema>;

/**
 * How a replica hears from an IM app. In the modes where the backend holds a connection:
 * `connected`, `connecting` (not open yet since the app was added or changed, or since the start),
 * `reconnecting` (open before, then dropped or failed) or `unavailable` (its stored settings cannot
 * be read, so no connection is opened until they are entered again; `lastError` says why).
 * `not-needed` when the IM calls the backend (callback) or the reconciler reads it (poll).
 *
 * @public
 */
export const integrationConnectionStateSchema = z
  .enum([
    'connected',
    'connecting',
    'reconnecting',
    'unavailable',
    'not-needed',
  ])
  .meta({ id: 'IntegrationConnectionState' });
/** @public */
export type IntegrationConnectionState = z.infer<
  typeof integrationConnectionStateSchema
>;

/** @public */
export const integrationHealthSchema = z
  .object({
    id: integrationIdSchema,
    connectionMode: connectionModeSchema,
    connection: integrationConnectionStateSchema,
    /** Since when the connection has been in its state; absent when none is needed. */
    since: z.iso.datetime().optional(),
    /** The last event this replica received from the IM, over the connection or by callback. */
    lastEventAt: z.iso.datetime().optional(),
    /** The connection's last failure on this replica (never a secret). */
    lastError: z
      .object({ message: z.string(), at: z.iso.datetime() })
      .optional(),
  })
  .meta({ id: 'IntegrationHealth' });
/** @public */
export type IntegrationHealth = z.infer<typeof integrationHealthSchema>;

/**
 * GET /integration-health: what the replica that answers sees of every IM app. Each replica holds
 * its own connections and hears its own callbacks, so another replica may see otherwise.
 *
 * @public
 */
export const integrationHealthListSchema = z
  .object({
    scope: z.literal('replica'),
    observedAt: z.iso.datetime(),
    items: z.array(integrationHealthSchema),
  })
  .meta({ id: 'IntegrationHealthList' });
/** @public */
export type IntegrationHealthList = z.infer<typeof integrationHealthListSchema>;
