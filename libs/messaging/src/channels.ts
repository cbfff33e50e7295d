import type { ChannelName, NormalizedMessage } from '@app/core';
import type { StoredMessage } from '@app/core';

/**
 * What travels over Redis Pub/Sub between replicas. Each agent stream subscribes to its account's channel
 * and, for a session token, to its session's channel.
 */
export type StreamEventName = 'connected' | 'message' | 'pairing_complete' | 'pairing_expired' | 'error';

/**
 * The `message` event (contract §4, works-channel.md §1). `channel` and `payload` (the original request body,
 * whole) are there for every channel; `kakaoPayload` — the same body — only for Kakao messages, as before.
 */
export interface MessageEventData {
  id: string;
  conversationKey: string;
  channel: ChannelName;
  kakaoPayload?: unknown;
  normalized: NormalizedMessage;
  createdAt: string;
  payload: unknown;
}

export type ChannelEnvelope =
  | { kind: 'message'; seq: number; data: MessageEventData }
  | { kind: 'pairing_complete'; data: PairingCompleteData }
  | {
      kind: 'pairing_expired';
      data: { reason: 'expired' | 'unpaired' | 'disconnected' };
      /** On an account channel: only streams authenticated with the account relay token (token rotated). */
      scope?: 'account_token';
    }
  | { kind: 'error'; data: { code: string; message: string; messageId?: string } }
  /** Streams of one credential that a newer stream replaced (MAX_STREAMS_PER_TOKEN); each closes itself. */
  | { kind: 'stream_replaced'; streamIds: string[] };

export interface PairingCompleteData {
  kakaoUserId: string;
  pairedAt: string;
  accountId: string;
  conversationKey: string;
}

/** Published once a message's coalesced reply was sent (or failed), for replies waiting synchronously. */
export type SendOutcome = { status: 'sent'; deliveredAt: number } | { status: 'failed'; error: string };

export const channelNames = {
  account: (accountId: string) => ['acct', accountId],
  session: (sessionId: string) => ['sess', sessionId],
  /** The merged SkillResponse for a webhook that waits in inline mode. */
  inlineReply: (messageId: string) => ['inline', messageId],
  /** The SendOutcome of a message's reply. */
  sendOutcome: (messageId: string) => ['outcome', messageId],
};

/** The `message` event of a stored message, as every transport sends it (one shape, built in one place). */
export function messageEventData(message: StoredMessage): MessageEventData {
  const createdAt = message.createdAt.toISOString();
  // One object shape per channel (keys in a fixed order), so V8 keeps one map for each.
  return message.channel === 'kakao'
    ? {
        id: message.id,
        conversationKey: message.conversationKey,
        channel: message.channel,
        kakaoPayload: message.payload,
        normalized: message.normalized,
        createdAt,
        payload: message.payload,
      }
    : {
        id: message.id,
        conversationKey: message.conversationKey,
        channel: message.channel,
        normalized: message.normalized,
        createdAt,
        payload: message.payload,
      };
}
