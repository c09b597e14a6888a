import { z } from 'zod';
import { encodingAesKeySchema } from '../validation';

// What a WeCom corp has before anything runs: self-built apps (with their callback settings),
// members and approval templates. The same schemas validate the seed, startSandbox's options and
// the control API's upserts.

export const wecomAppSeedSchema = z.object({
  agentId: z.number().int().positive(),
  secret: z.string().min(1),
  /** The callback's Token and EncodingAESKey (43 characters); messages are encrypted for receiveId = the CorpID. */
  token: z.string().min(1),
  encodingAesKey: encodingAesKeySchema,
  callbackUrl: z.url({ protocol: /^https?$/ }).optional(),
  /**
   * Whether the app is in the Approval app's "apps that may call the API" list (admin console →
   * Approval → API); without it every OA call answers 301055. Kept by an upsert that leaves it out.
   */
  approvalApi: z.boolean().optional(),
});

export const wecomUserSeedSchema = z.object({
  userId: z.string().min(1),
  name: z.string().min(1),
  /** The member's own email field: found by get_userid_by_email with email_type 2. */
  email: z.email().optional(),
  /** The WeCom Mail (enterprise mailbox) address, for corps that use WeCom Mail: email_type 1, the default. */
  bizMail: z.email().optional(),
  mobile: z.string().min(1).optional(),
});

export const wecomTemplateSeedSchema = z.object({
  templateId: z.string().min(1),
  name: z.string().min(1),
  controls: z
    .array(
      z.object({
        control: z.enum(['Text', 'Textarea']),
        id: z.string().min(1),
        title: z.string().min(1),
        required: z.boolean().optional(),
      }),
    )
    .min(1)
    .refine(
      controls =>
        new Set(controls.map(control => control.id)).size === controls.length,
      {
        message: 'control ids must be unique: requests address controls by id',
      },
    ),
});

/** WeCom's OA APIs allow 600 calls a minute. */
export const WECOM_OA_CALLS_PER_MINUTE = 600;
export const rateLimitSchema = z.number().int().min(1).max(1_000_000);

/** A group chat an app created (appchat/create): its members, and the app (agentId) that sends to it. */
export const wecomChatSeedSchema = z.object({
  chatId: z
    .string()
    .regex(/^[0-9a-zA-Z]{1,32}$/, 'at most 32 letters and digits'),
  name: z.string().min(1),
  owner: z.string().min(1).optional(),
  members: z.array(z.string().min(1)).min(2),
  agentId: z.number().int(),
});

export const wecomSeedSchema = z.object({
  /** The corp: gettoken's corpid, and the receiveId of every callback. */
  corpId: z.string().min(1).optional(),
  apps: z.array(wecomAppSeedSchema).optional(),
  users: z.array(wecomUserSeedSchema).optional(),
  templates: z.array(wecomTemplateSeedSchema).optional(),
  chats: z.array(wecomChatSeedSchema).optional(),
  /** OA calls (template, apply, detail) a minute before errcode 45009. */
  rateLimitPerMinute: rateLimitSchema.optional(),
});

export type WecomAppSeed = z.input<typeof wecomAppSeedSchema>;
export type WecomUserSeed = z.input<typeof wecomUserSeedSchema>;
export type WecomTemplateSeed = z.input<typeof wecomTemplateSeedSchema>;
export type WecomChatSeed = z.input<typeof wecomChatSeedSchema>;
export type WecomSeed = z.input<typeof wecomSeedSchema>;
