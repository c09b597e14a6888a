import { z } from 'zod';

// What a Feishu tenant holds before anything runs: self-built apps, people and approval
// definitions. The same schemas validate the seed file, startSandbox's options and the
// control API's upserts, so every way in reports a bad field the same way.

export const feishuAppSeedSchema = z.object({
  appId: z.string().min(1),
  appSecret: z.string().min(1),
  verificationToken: z.string().min(1),
  encryptKey: z.string().min(1).optional(),
  callbackUrl: z.url({ protocol: /^https?$/ }).optional(),
  /** Where card button clicks are sent (the console's card request URL, 卡片回调地址). */
  cardCallbackUrl: z.url({ protocol: /^https?$/ }).optional(),
  mode: z.enum(['callback', 'long-connection']).optional(),
});

/** A group chat: its people (open_ids) and the apps whose bot is in it. */
export const feishuChatSeedSchema = z.object({
  chatId: z.string().regex(/^oc_/, 'expected a chat_id (oc_…)'),
  name: z.string().min(1),
  members: z.array(z.string().min(1)),
  bots: z.array(z.string().min(1)),
});

export const feishuUserSeedSchema = z.object({
  openId: z.string().min(1),
  userId: z.string().min(1).optional(),
  name: z.string().min(1),
  email: z.email().optional(),
  mobile: z.string().min(1).optional(),
});

const widgetSchema = z.object({
  id: z.string().min(1),
  name: z.string().min(1),
  type: z.string().min(1),
  required: z.boolean().optional(),
});

const nodeSchema = z.object({
  nodeId: z.string().min(1),
  customNodeId: z.string().min(1).optional(),
  name: z.string().min(1),
  type: z.enum(['AND', 'OR']),
  needApprover: z.boolean(),
  /** Whether the initiator may choose several approvers for the node (Feishu's approver_chosen_multi); true by default. */
  approverChosenMulti: z.boolean().optional(),
});

export const feishuApprovalSeedSchema = z
  .object({
    approvalCode: z.string().min(1),
    name: z.string().min(1),
    form: z.array(widgetSchema),
    nodes: z.array(nodeSchema).min(1),
    allowRevoke: z.boolean().optional(),
  })
  .superRefine((approval, ctx) => {
    // The sandbox models only approvers the initiator chooses; a definition with none could never be decided.
    if (!approval.nodes.some(node => node.needApprover)) {
      ctx.addIssue({
        code: 'custom',
        path: ['nodes'],
        message: 'at least one node must have needApprover: true',
      });
    }
    // Widget ids and node keys address things in instance requests, so they must be unambiguous.
    const widgetIds = new Set<string>();
    approval.form.forEach((widget, index) => {
      if (widgetIds.has(widget.id)) {
        ctx.addIssue({
          code: 'custom',
          path: ['form', index, 'id'],
          message: `duplicate widget id "${widget.id}"`,
        });
      }
      widgetIds.add(widget.id);
    });
    const nodeKeys = new Set<string>();
    approval.nodes.forEach((node, index) => {
      for (const [field, key] of [
        ['nodeId', node.nodeId],
        ['customNodeId', node.customNodeId],
      ] as const) {
        if (key === undefined) continue;
        if (nodeKeys.has(key)) {
          ctx.addIssue({
            code: 'custom',
            path: ['nodes', index, field],
            message: `duplicate node key "${key}"`,
          });
        }
        nodeKeys.add(key);
      }
    });
  });

export const feishuSeedSchema = z.object({
  apps: z.array(feishuAppSeedSchema).optional(),
  users: z.array(feishuUserSeedSchema).optional(),
  approvals: z.array(feishuApprovalSeedSchema).optional(),
  chats: z.array(feishuChatSeedSchema).optional(),
});

export type FeishuAppSeed = z.input<typeof feishuAppSeedSchema>;
export type FeishuUserSeed = z.input<typeof feishuUserSeedSchema>;
export type FeishuApprovalSeed = z.input<typeof feishuApprovalSeedSchema>;
export type FeishuSeed = z.input<typeof feishuSeedSchema>;
export type FeishuChat = z.output<typeof feishuChatSeedSchema>;
