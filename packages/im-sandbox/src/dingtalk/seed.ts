import { z } from 'zod';
import { encodingAesKeySchema } from '../validation';

// What a DingTalk corp has before anything runs: internal apps (with their event settings),
// people and approval forms. The same schemas validate the seed, startSandbox's options and the
// control API's upserts.

export const dingtalkAppSeedSchema = z.object({
  appKey: z.string().min(1),
  appSecret: z.string().min(1),
  agentId: z.number().int().positive().optional(),
  /** The event subscription's token and aes_key (43 characters); events are encrypted for receiveId = appKey. */
  token: z.string().min(1),
  aesKey: encodingAesKeySchema,
  callbackUrl: z.url({ protocol: /^https?$/ }).optional(),
  /** How the app receives events: HTTP push to callbackUrl, or the Stream connection its client holds. */
  mode: z.enum(['callback', 'stream']).optional(),
  /**
   * The receiveId ("ownerKey") its events are encrypted for: the AppKey (default) for an app's
   * event subscription; the CorpId for an older corp-level registration.
   */
  receiveId: z.string().min(1).optional(),
  /** The unit of the pushed events' `timestamp`: milliseconds (default) or, as some pushes send, seconds. */
  timestampUnit: z.enum(['ms', 's']).optional(),
});

export const dingtalkUserSeedSchema = z.object({
  userId: z.string().min(1),
  name: z.string().min(1),
  mobile: z.string().min(1).optional(),
});

/** The component types DingTalk's official OA approval forms take ("FormComponent参数说明"). */
export const DINGTALK_COMPONENT_TYPES = [
  'TextField',
  'TextareaField',
  'NumberField',
  'DDSelectField',
  'DDMultiSelectField',
  'DDDateField',
  'DDDateRangeField',
  'TextNote',
  'PhoneField',
  'DDPhotoField',
  'MoneyField',
  'TableField',
  'DDAttachment',
  'InnerContactField',
  'DepartmentField',
  'RelateField',
  'AddressField',
  'StarRatingField',
  'TimeAndLocationField',
] as const;
export type DingtalkComponentType = (typeof DINGTALK_COMPONENT_TYPES)[number];

export const dingtalkFormSeedSchema = z.object({
  processCode: z.string().min(1),
  name: z.string().min(1),
  components: z
    .array(
      z.object({
        componentType: z.enum(DINGTALK_COMPONENT_TYPES),
        id: z.string().min(1),
        label: z.string().min(1),
        required: z.boolean().optional(),
      }),
    )
    .min(1)
    .refine(
      components =>
        new Set(components.map(component => component.label)).size ===
        components.length,
      {
        message: 'labels must be unique: instances address components by label',
      },
    ),
});

/** A group chat (群): its people (user ids) and the apps whose robot is in it. */
export const dingtalkChatSeedSchema = z.object({
  openConversationId: z
    .string()
    .regex(/^cid/, 'expected an openConversationId (cid…)'),
  name: z.string().min(1),
  members: z.array(z.string().min(1)),
  /** AppKeys of the apps whose robot (robotCode = AppKey) is in the group. */
  robots: z.array(z.string().min(1)).default([]),
});

/**
 * A card template as made in the card platform's designer and published: the variables it
 * declares, its lines (`${variable}` placeholders; a line whose variables are all empty is hidden),
 * its callback buttons (shown when a variable is "true"), and the callback param its text input
 * fills (a designer input writes a local variable the buttons send as that param).
 */
export const dingtalkCardTemplateSeedSchema = z.object({
  templateId: z.string().min(1),
  variables: z.array(z.string().min(1)).min(1),
  lines: z.array(z.string()),
  buttons: z
    .array(
      z.object({
        actionId: z.string().min(1),
        text: z.string().min(1),
        shownWhen: z.string().min(1).optional(),
        /** The callback's params; values may hold `${variable}` placeholders. */
        params: z.record(z.string(), z.string()).optional(),
      }),
    )
    .default([]),
  input: z.string().min(1).optional(),
});

export const dingtalkSeedSchema = z.object({
  /** The corp the apps belong to; events name it as eventCorpId. */
  corpId: z.string().min(1).optional(),
  apps: z.array(dingtalkAppSeedSchema).optional(),
  users: z.array(dingtalkUserSeedSchema).optional(),
  forms: z.array(dingtalkFormSeedSchema).optional(),
  chats: z.array(dingtalkChatSeedSchema).optional(),
  cardTemplates: z.array(dingtalkCardTemplateSeedSchema).optional(),
});

export type DingtalkAppSeed = z.input<typeof dingtalkAppSeedSchema>;
export type DingtalkUserSeed = z.input<typeof dingtalkUserSeedSchema>;
export type DingtalkFormSeed = z.input<typeof dingtalkFormSeedSchema>;
export type DingtalkChat = z.output<typeof dingtalkChatSeedSchema>;
export type DingtalkCardTemplate = z.output<
  typeof dingtalkCardTemplateSeedSchema
>;
export type DingtalkSeed = z.input<typeof dingtalkSeedSchema>;
