import { createHash } from 'node:crypto';
import {
  ChannelAttachment,
  ConversationIdentity,
  ErrorDetail,
  MAX_KAKAO_ID_LENGTH,
  NormalizedMessage,
  ValidationError,
  worksConversationKey,
  WorksTarget,
} from '@app/core';

/** The callback's event types (works-channel.md §2): messages, and events that are recorded only. */
export const WORKS_MESSAGE_TYPES = ['message', 'postback'] as const;
export const WORKS_EVENT_TYPES = ['join', 'leave', 'joined', 'left'] as const;
const TYPES: readonly string[] = [...WORKS_MESSAGE_TYPES, ...WORKS_EVENT_TYPES];
const ATTACHMENT_TYPES: ReadonlySet<string> = new Set([
  'image',
  'file',
  'audio',
  'video',
  'sticker',
  'location',
]);

/** The body of a Works bot callback, as far as the relay reads it (the whole body is stored and forwarded). */
export interface WorksCallbackBody {
  type: string;
  source: { userId: string; channelId?: string; domainId?: string | number };
  issuedTime: string;
  content?: { type: string; text?: string; [key: string]: unknown };
  data?: unknown;
  [key: string]: unknown;
}

/** A Works callback, understood: who wrote in which conversation, and where an answer goes. */
export interface WorksCallback {
  body: WorksCallbackBody;
  botId: string;
  target: WorksTarget;
  conversation: ConversationIdentity;
  text: string;
  normalized: NormalizedMessage;
  /** Set for `join`/`leave`/`joined`/`left`: recorded, never streamed. */
  event?: string;
  /** A repeat of the same event (same body, same `issuedTime`) is stored once. */
  dedupeKey: string;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function idProblem(value: unknown, field: string, required: boolean): ErrorDetail | null {
  if (value === undefined && !required) return null;
  if (typeof value !== 'string' || value.length === 0)
    return { field, message: `${field} must be a non-empty string` };
  if (value.length > MAX_KAKAO_ID_LENGTH) {
    return { field, message: `${field} must be at most ${MAX_KAKAO_ID_LENGTH} characters` };
  }
  return null;
}

/**
 * Validates a Works callback body and names its conversation (works-channel.md §1–2): a one-to-one chat is
 * `works:<botId>:<userId>`, a room `works:<botId>:channel:<channelId>` (the whole room is one conversation).
 * Throws `ValidationError` (400) naming every field that is wrong.
 */
export function readWorksCallback(botId: string, body: unknown, rawBody: Buffer): WorksCallback {
  if (!isRecord(body)) throw new ValidationError('The callback body must be a JSON object.');
  const problems: ErrorDetail[] = [];
  const type = body.type;
  if (typeof type !== 'string' || !TYPES.includes(type)) {
    problems.push({ field: 'type', message: `type must be one of ${TYPES.join(', ')}` });
  }
  const source = body.source;
  if (!isRecord(source)) {
    problems.push({ field: 'source', message: 'source must be an object' });
  } else {
    for (const problem of [
      idProblem(source.userId, 'source.userId', true),
      idProblem(source.channelId, 'source.channelId', false),
    ]) {
      if (problem) problems.push(problem);
    }
  }
  if (typeof body.issuedTime !== 'string' || Number.isNaN(Date.parse(body.issuedTime))) {
    problems.push({ field: 'issuedTime', message: 'issuedTime must be an ISO date-time string' });
  }
  const content = body.content;
  if (type === 'message') {
    if (!isRecord(content) || typeof content.type !== 'string') {
      problems.push({ field: 'content.type', message: 'a message must have content with a string type' });
    } else if (content.type === 'text' && typeof content.text !== 'string') {
      problems.push({ field: 'content.text', message: 'a text message must have a string text' });
    }
  } else if (content !== undefined && !isRecord(content)) {
    problems.push({ field: 'content', message: 'content must be an object' });
  }
  if (problems.length > 0)
    throw new ValidationError('The callback body is not a valid Works event.', problems);

  const valid = body as WorksCallbackBody;
  const { userId, channelId } = valid.source;
  const target: WorksTarget = channelId
    ? { botId, kind: 'channel', id: channelId }
    : { botId, kind: 'user', id: userId };
  const conversation: ConversationIdentity = {
    channelId: channelId ?? botId,
    userId,
    conversationKey: worksConversationKey(target),
  };
  const text =
    valid.type === 'message' && valid.content?.type === 'text' ? (valid.content.text as string) : '';
  const normalized: NormalizedMessage = { userId, text, channelId: conversation.channelId };
  const attachment = valid.type === 'message' ? attachmentOf(valid.content) : null;
  if (attachment) normalized.attachments = [attachment];
  const isEvent = (WORKS_EVENT_TYPES as readonly string[]).includes(valid.type);
  return {
    body: valid,
    botId,
    target,
    conversation,
    text,
    normalized,
    event: isEvent ? valid.type : undefined,
    dedupeKey: createHash('sha256').update(`works\n${botId}\n`).update(rawBody).digest('base64url'),
  };
}

/** Non-text content as `normalized.attachments` (works-channel.md §1): its type, and a URL or file id if given. */
function attachmentOf(content: WorksCallbackBody['content']): ChannelAttachment | null {
  if (!content || !ATTACHMENT_TYPES.has(content.type)) return null;
  const attachment: ChannelAttachment = { type: content.type as ChannelAttachment['type'] };
  const url = [content.originalContentUrl, content.resourceUrl, content.url].find(
    (u) => typeof u === 'string',
  );
  if (typeof url === 'string') attachment.url = url;
  if (typeof content.fileId === 'string') attachment.fileId = content.fileId;
  return attachment;
}
