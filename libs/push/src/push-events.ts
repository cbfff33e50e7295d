import { randomUUID } from 'node:crypto';
import type { PushDelivery, PushEventName, StoredMessage } from '@app/core';
import { ChannelEnvelope, MessageEventData, messageEventData, messageEventJson } from '@app/messaging';

/** The push `type` of each agent-stream event name (server-mode §2). */
export const PUSH_EVENT_TYPES: Record<PushEventName, string> = {
  message: 'message.received',
  pairing_complete: 'pairing.completed',
  pairing_expired: 'pairing.expired',
  error: 'reply.failed',
};

/** An event to push: its id (the `webhook-id`), type, sequence number and the exact body. */
export interface PushEvent {
  name: PushEventName;
  webhookId: string;
  type: string;
  seq: number | null;
  messageId: string | null;
  body: string;
}

/** A message event's body; `timestamp` is the event time as a JSON string. */
function messageBody(seq: number, data: MessageEventData, timestamp: string): string {
  return (
    `{"type":"${PUSH_EVENT_TYPES.message}","timestamp":${timestamp},"seq":${seq},` +
    `"data":${messageEventJson(data)}}`
  );
}

/**
 * The push event of an agent-stream event, or null for what is not pushed (`stream_replaced`, `connected`).
 * Body: `{"type","timestamp","seq"?,"data"}`, `data` being exactly what the SSE event of that name carries (a
 * message's data is written by `messageEventJson`, as for the streams). The `webhook-id` of a message is its id
 * (so the sweep and the live path make the same one); other events get a new UUID, stored with the delivery.
 */
export function pushEventOf(envelope: ChannelEnvelope, at: Date): PushEvent | null {
  const timestamp = JSON.stringify(at.toISOString());
  switch (envelope.kind) {
    case 'message':
      return {
        name: 'message',
        webhookId: envelope.data.id,
        type: PUSH_EVENT_TYPES.message,
        seq: envelope.seq,
        messageId: envelope.data.id,
        body: messageBody(envelope.seq, envelope.data, timestamp),
      };
    case 'pairing_complete':
    case 'pairing_expired':
    case 'error': {
      const type = PUSH_EVENT_TYPES[envelope.kind];
      return {
        name: envelope.kind,
        webhookId: `evt_${randomUUID()}`,
        type,
        seq: null,
        messageId: null,
        body: JSON.stringify({ type, timestamp: at.toISOString(), data: envelope.data }),
      };
    }
    default:
      return null;
  }
}

/**
 * The body of a message's delivery, rendered again from the stored message (the store keeps no copy of it): the
 * live event's body with the delivery's `createdAt` as its timestamp, which is the time the live event was made.
 */
export function messageDeliveryBody(message: StoredMessage, at: Date): string {
  return messageBody(message.seq, messageEventData(message), JSON.stringify(at.toISOString()));
}

/** What an attempt of `delivery` sends: its body, or its message's rendering; null when neither is at hand. */
export function deliveryBody(delivery: PushDelivery): string | null {
  if (delivery.body !== null) return delivery.body;
  return delivery.message ? messageDeliveryBody(delivery.message, delivery.createdAt) : null;
}
