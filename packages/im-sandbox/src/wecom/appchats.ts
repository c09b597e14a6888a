import { z } from 'zod';
import { WecomApiError, WecomCode } from './errors';
import {
  messageContent,
  sendWecomMessageSchema,
  type WecomMessage,
} from './messages';
import type { WecomApp, WecomState } from './state';

// Group chats of an app (群聊会话, /cgi-bin/appchat/*): an app may create a chat of members and
// send it messages (text, textcard…), and send only to chats it created. WeCom has no API to edit
// a message sent there, and no buttons that call the app back from it.

export const WecomChatCode = {
  /** The chat does not exist, or another app created it (the sandbox's best knowledge). */
  chatNotFound: 86003,
  /** A chat needs 2 to 500 members, each a member of the corp. */
  invalidUserList: 40031,
} as const;

export const createChatSchema = z.object({
  name: z.string().max(50).optional(),
  owner: z.string().min(1).optional(),
  userlist: z.array(z.string().min(1)).min(2).max(500),
  chatid: z
    .string()
    .regex(/^[0-9a-zA-Z]{1,32}$/, 'at most 32 letters and digits')
    .optional(),
});
export type CreateChatRequest = z.infer<typeof createChatSchema>;

export const sendChatMessageSchema = sendWecomMessageSchema
  .pick({ msgtype: true, text: true, textcard: true })
  .extend({ chatid: z.string().min(1), safe: z.number().int().optional() });

export interface WecomChat {
  chatId: string;
  name: string;
  owner: string;
  members: string[];
  /** The app that created it: the only one that may send to it. */
  agentId: number;
}

export function createChat(
  state: WecomState,
  app: WecomApp,
  request: CreateChatRequest,
): WecomChat {
  const unknown = request.userlist.find(userId => !state.users.has(userId));
  if (unknown !== undefined)
    throw new WecomApiError(
      WecomChatCode.invalidUserList,
      `invalid userlist: ${unknown} is not a member`,
    );
  const chatId = request.chatid ?? `wrchat${state.nextMessageId()}`;
  if (state.chats.has(chatId))
    throw new WecomApiError(
      WecomCode.invalidParameter,
      `chatid ${chatId} is already used`,
    );
  const chat: WecomChat = {
    chatId,
    name: request.name ?? chatId,
    owner: request.owner ?? request.userlist[0]!,
    members: [...new Set(request.userlist)],
    agentId: app.agentId,
  };
  state.chats.set(chatId, chat);
  return chat;
}

/** The app's own chat, or WeCom's refusal. */
export function chatOf(
  state: WecomState,
  app: WecomApp,
  chatId: string,
): WecomChat {
  const chat = state.chats.get(chatId);
  if (!chat || chat.agentId !== app.agentId)
    throw new WecomApiError(
      WecomChatCode.chatNotFound,
      `chat ${chatId} not exist (an app sends only to the chats it created)`,
    );
  return chat;
}

export function sendChatMessage(
  state: WecomState,
  app: WecomApp,
  request: z.infer<typeof sendChatMessageSchema>,
  now: number,
): void {
  const chat = chatOf(state, app, request.chatid);
  const message: WecomMessage = {
    msgId: state.nextMessageId(),
    agentId: app.agentId,
    userId: chat.chatId,
    msgType: request.msgtype,
    content: messageContent(request),
    at: now,
  };
  state.chatMessages.set(chat.chatId, [
    ...(state.chatMessages.get(chat.chatId) ?? []),
    message,
  ]);
}
