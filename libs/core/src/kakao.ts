import type { ConversationIdentity } from './channels/channel-adapter';

/**
 * Kakao i OpenBuilder skill protocol types (see shared/spec/kakao-openbuilder.md). Only the fields the relay
 * reads are typed; the payload itself is stored and forwarded exactly as received.
 */
export interface KakaoSkillPayload {
  intent?: { id?: string; name?: string; extra?: Record<string, unknown> };
  userRequest: {
    timezone?: string;
    params?: Record<string, unknown>;
    block?: { id?: string; name?: string };
    utterance: string;
    lang?: string;
    user: {
      id: string;
      type?: string;
      properties?: {
        plusfriendUserKey?: unknown;
        appUserId?: unknown;
        isFriend?: unknown;
        [k: string]: unknown;
      };
    };
    callbackUrl?: string;
  };
  bot?: { id?: string; name?: string };
  action?: Record<string, unknown>;
  flow?: Record<string, unknown>;
  contexts?: unknown[];
  [key: string]: unknown;
}

export interface SkillOutput {
  [component: string]: unknown;
}

export interface SkillResponse {
  version: '2.0';
  template?: { outputs?: SkillOutput[]; quickReplies?: unknown[]; [k: string]: unknown };
  context?: unknown;
  data?: Record<string, unknown>;
  useCallback?: boolean;
  [key: string]: unknown;
}

/** Longest Kakao id the relay accepts: user ids, `plusfriendUserKey`, bot id (contract §7). */
export const MAX_KAKAO_ID_LENGTH = 256;

/** Longest `callbackUrl` the relay accepts, in UTF-8 bytes (contract §7: 1 KiB). */
export const MAX_CALLBACK_URL_BYTES = 1024;

/** The keys the relay derives from a payload (contract §2). */
export function conversationIdentity(payload: KakaoSkillPayload): ConversationIdentity {
  const botId = payload.bot?.id;
  const channelId = typeof botId === 'string' && botId.length > 0 ? botId : 'default';
  const pfKey = payload.userRequest.user.properties?.plusfriendUserKey;
  const userId = typeof pfKey === 'string' && pfKey.length > 0 ? pfKey : payload.userRequest.user.id;
  return { channelId, userId, conversationKey: `${channelId}:${userId}` };
}

export function simpleText(text: string): SkillResponse {
  return { version: '2.0', template: { outputs: [{ simpleText: { text } }] } };
}

export function useCallbackResponse(waitingText?: string): SkillResponse {
  return waitingText
    ? { version: '2.0', useCallback: true, data: { text: waitingText } }
    : { version: '2.0', useCallback: true };
}
