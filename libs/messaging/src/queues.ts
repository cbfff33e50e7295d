import type { JobsOptions } from 'bullmq';
/** BullMQ queue names. One class per queue producer and per processor lives with its feature module. */
export const QUEUES = {
  /** Carries each stored inbound message to the agent streams (Redis Pub/Sub), retried if a publish fails. */
  inboundDelivery: 'inbound-delivery',
  /** Sends the coalesced reply of one message to Kakao's callback URL. */
  callbackSend: 'callback-send',
  /** Sends one Naver Works message through the Works send API, in order within its conversation. */
  worksSend: 'works-send',
  /** Asks Kakao's Event API to run a bot's event block for a held answer (server-mode §6). */
  kakaoEvent: 'kakao-event',
  /** Delivers one signed event to an account's push endpoint (server-mode §2). */
  pushDelivery: 'push-delivery',
} as const;

export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

/**
 * The options of a job that waits by delaying itself (`moveToDelayed`: a Works send's order, 429 and backoff; a
 * push delivery's retry schedule) rather than through BullMQ attempts: those are only for errors the job throws
 * (PostgreSQL or Redis away). Nothing is kept in Redis afterwards: the outcome is in the feature's table.
 */
export const SELF_DELAYING_JOB_OPTIONS = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 1000 },
  removeOnComplete: true,
  removeOnFail: true,
} as const satisfies JobsOptions;

export interface InboundDeliveryJob {
  accountId: string;
  messageId: string;
  seq: number;
}

export interface CallbackSendJob {
  messageId: string;
}

/** Deterministic: one send job per message, whatever the number of replies (BullMQ ids may not contain ':'). */
export function callbackSendJobId(messageId: string): string {
  return `send-${messageId}`;
}

export interface WorksSendJob {
  /** The `works_sends` row to send. */
  sendId: string;
}

/** One job per Works message (deterministic, so a lost job can be queued again without a duplicate). */
export function worksSendJobId(sendId: string): string {
  return `works-${sendId}`;
}

export interface KakaoEventJob {
  /** The `held_answers` row the event block will ask for. */
  heldId: string;
}

/** One Event API job per held answer (deterministic, so queuing it twice is a no-op). */
export function kakaoEventJobId(heldId: string): string {
  return `event-${heldId}`;
}

export interface PushDeliveryJob {
  /** The `push_deliveries` row to deliver. */
  deliveryId: string;
}

/** One job per delivery (deterministic, so a lost job can be queued again without a duplicate). */
export function pushDeliveryJobId(deliveryId: string): string {
  return `push-${deliveryId}`;
}
