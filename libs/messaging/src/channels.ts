import type { StoredMessage } from '@app/persistence';

/**
 * What travels over Redis Pub/Sub between replicas. Each agent stream subscribes to its account's channel
 * and, for a session token, to its session's channel.
 */
export type StreamEventName = 'connected' | 'message' | 'pairing_complete' | 'pairing_expired' | 'error';

export interface MessageEventData {
  id: string;
  conversationKey: string;
  kakaoPayload: unknown;
  normalized: { userId: string; text: string; channelId: string };
  createdAt: string;
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
  return {
    id: message.id,
    conversationKey: message.conversationKey,
    kakaoPayload: message.kakaoPayload,
    normalized: message.normalized,
    createdAt: message.createdAt.toISOString(),
  };
}
