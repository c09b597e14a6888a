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

export const dingtalkSeedSchema = z.object({
  /** The corp the apps belong to; events name it as eventCorpId. */
  corpId: z.string().min(1).optional(),
  apps: z.array(dingtalkAppSeedSchema).optional(),
  users: z.array(dingtalkUserSeedSchema).optional(),
  forms: z.array(dingtalkFormSeedSchema).optional(),
});

export type DingtalkAppSeed = z.input<typeof dingtalkAppSeedSchema>;
export type DingtalkUserSeed = z.input<typeof dingtalkUserSeedSchema>;
export type DingtalkFormSeed = z.input<typeof dingtalkFormSeedSchema>;
export type DingtalkSeed = z.input<typeof dingtalkSeedSchema>;
