import { z } from 'zod';
import type { DingtalkApp, DingtalkState } from './state';

// Work notices (工作通知, POST /topapi/message/corpconversation/asyncsend_v2): an app's message to
// people of the corp, shown in their "work notice" conversation.

/** DingTalk takes at most 100 user ids a call ("userid_list 最大长度100"). */
export const WORK_NOTICE_MAX_USERS = 100;
const DAY_MS = 24 * 60 * 60 * 1000;

const msgSchema = z.discriminatedUnion('msgtype', [
  z.object({
    msgtype: z.literal('text'),
    text: z.object({ content: z.string().min(1) }),
  }),
  z.object({
    msgtype: z.literal('link'),
    link: z.object({
      messageUrl: z.string().min(1),
      picUrl: z.string().min(1),
      title: z.string().min(1),
      text: z.string().min(1),
    }),
  }),
  z.object({
    msgtype: z.literal('markdown'),
    markdown: z.object({ title: z.string().min(1), text: z.string().min(1) }),
  }),
]);

export const workNoticeSchema = z.object({
  agent_id: z.number().int().positive(),
  /** Comma-separated user ids. */
  userid_list: z
    .string()
    .min(1)
    .refine(
      list => list.split(',').length <= WORK_NOTICE_MAX_USERS,
      `at most ${WORK_NOTICE_MAX_USERS} user ids`,
    ),
  msg: msgSchema,
});
export type WorkNoticeRequest = z.infer<typeof workNoticeSchema>;

/**
 * Delivers a notice to each user of the corp named; answers the send task's id. As DingTalk does,
 * unknown ids are skipped, and a user gets the same content from one app at most once a day.
 */
export function sendWorkNotice(
  state: DingtalkState,
  app: DingtalkApp,
  request: WorkNoticeRequest,
  now: number,
): number {
  const taskId = state.nextNoticeId();
  const content = JSON.stringify(request.msg);
  const userIds = new Set(request.userid_list.split(',').map(id => id.trim()));
  for (const userId of userIds) {
    if (!state.users.has(userId)) continue;
    const received = state.notices.get(userId) ?? [];
    const repeated = received.some(
      notice =>
        notice.appKey === app.appKey &&
        notice.at > now - DAY_MS &&
        JSON.stringify(notice.msg) === content,
    );
    if (repeated) continue;
    received.push({
      taskId,
      appKey: app.appKey,
      agentId: request.agent_id,
      userId,
      msg: request.msg,
      at: now,
    });
    state.notices.set(userId, received);
  }
  return taskId;
}
