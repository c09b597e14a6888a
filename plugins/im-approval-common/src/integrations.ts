import { z } from 'zod';

export const integrationIdSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'expected lower-case letters, digits and dashes');

/** How decisions reach the backend. The reconciler reads the IM behind every mode. */
export const connectionModeSchema = z.enum(['callback', 'poll']).meta({ id: 'ConnectionMode' });
export type ConnectionMode = z.infer<typeof connectionModeSchema>;

const FEISHU_DOMAINS = {
  feishu: 'https://open.feishu.cn',
  lark: 'https://open.larksuite.com',
} as const;

export const feishuIntegrationSchema = z
  .object({
    id: integrationIdSchema,
    provider: z.literal('feishu'),
    title: z.string().optional(),
    /** `feishu` (China) or `lark` (international); `baseUrl` overrides it (private or local endpoints). */
    domain: z.enum(['feishu', 'lark']).default('feishu'),
    baseUrl: z.url().optional(),
    appId: z.string().min(1),
    appSecret: z.string().min(1),
    verificationToken: z.string().min(1),
    encryptKey: z.string().min(1).optional(),
    connectionMode: connectionModeSchema.default('callback'),
    /** The user the app opens approvals on behalf of: an open_id, an email or a mobile. */
    initiator: z.string().min(1),
    /** A link to an instance for people, with `{instanceId}` in it. */
    instanceUrl: z.string().includes('{instanceId}').optional(),
  })
  .transform(integration => ({
    ...integration,
    apiBaseUrl: (integration.baseUrl ?? FEISHU_DOMAINS[integration.domain]).replace(/\/+$/, ''),
  }));
export type FeishuIntegration = z.output<typeof feishuIntegrationSchema>;

export const integrationSchema = feishuIntegrationSchema;
export type Integration = z.output<typeof integrationSchema>;
export type ProviderId = Integration['provider'];
