import type { ChannelName, NormalizedMessage } from '@app/core';
import type { StoredMessage } from '@app/core';

/**
 * What travels over Redis Pub/Sub between replicas. Each agent stream subscribes to its account's channel
 * and, for a session token, to its session's channel.
 */
export type StreamEventName = 'connected' | 'message' | 'pairing_complete' | 'pairing_expired' | 'error';

/**
 * The `message` event's data as it travels (Pub/Sub, the delivery queue) and is held: `channel` and `payload`
 * (the original request body, whole). What agents receive (`messageEventJson`) adds `kakaoPayload` — the same
 * body — for Kakao messages (contract §4, works-channel.md §1); it is not carried twice on the way.
 */
export interface MessageEventData {
  id: string;
  conversationKey: string;
  channel: ChannelName;
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
      /**
       * On an account channel: `account_token` — only streams authenticated with the account relay token (token
       * rotated); `api_key` — only streams opened with a token of the API key `apiKeyId` (key revoked).
       */
      scope?: 'account_token' | 'api_key';
      apiKeyId?: string;
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

/** The `message` event's data of a stored message (one shape, built in one place). */
export function messageEventData(message: StoredMessage): MessageEventData {
  return {
    id: message.id,
    conversationKey: message.conversationKey,
    channel: message.channel,
    normalized: message.normalized,
    createdAt: message.createdAt.toISOString(),
    payload: message.payload,
  };
}

/**
 * The JSON of the `message` event every transport sends: `{id, conversationKey, channel, kakaoPayload (Kakao
 * only), normalized, createdAt, payload}`, in that order. The body, usually most of the bytes, is serialised once
 * even though a Kakao event carries it twice.
 */
export function messageEventJson(data: MessageEventData): string {
  const payload = JSON.stringify(data.payload) ?? 'null';
  const kakao = data.channel === 'kakao' ? `,"kakaoPayload":${payload}` : '';
  return (
    `{"id":${JSON.stringify(data.id)},"conversationKey":${JSON.stringify(data.conversationKey)},` +
    `"channel":${JSON.stringify(data.channel)}${kakao},"normalized":${JSON.stringify(data.normalized)},` +
    `"createdAt":${JSON.stringify(data.createdAt)},"payload":${payload}}`
  );
}
