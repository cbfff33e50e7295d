import type { StoredMessage } from '../domain/inbound-message';

/** The agent-stream event names a push endpoint may subscribe to (its `events` filter, server-mode §2). */
export const PUSH_EVENT_NAMES = ['message', 'pairing_complete', 'pairing_expired', 'error'] as const;
export type PushEventName = (typeof PUSH_EVENT_NAMES)[number];

/** An account's push endpoint, with its signing secrets in clear (the worker signs with them). */
export interface PushEndpoint {
  id: string;
  accountId: string;
  url: string;
  events: PushEventName[];
  enabled: boolean;
  /** Why it was disabled (the receiver answered 410), null while enabled. */
  disabledReason: string | null;
  /** `whsec_<base64 of 32 bytes>`. */
  secret: string;
  /** The secret before the last rotation: its signature goes along until `previousSecretUntil`. */
  previousSecret: string | null;
  previousSecretUntil: Date | null;
  /** Every message of the account up to this sequence number has its delivery (or predates the endpoint). */
  messageCursor: number;
  createdAt: Date;
  updatedAt: Date;
}

/** What the event path needs to know of an enabled endpoint (cached in every process). */
export interface PushRoute {
  endpointId: string;
  accountId: string;
  events: PushEventName[];
}

export type PushDeliveryStatus = 'pending' | 'delivered' | 'failed';

export interface NewPushDelivery {
  endpointId: string;
  accountId: string;
  /** The event id: the message id for messages, a generated one otherwise; the same on every attempt. */
  webhookId: string;
  /** `message.received`, `pairing.completed`, `pairing.expired`, `reply.failed`. */
  eventType: string;
  seq: number | null;
  messageId: string | null;
  /**
   * The exact body signed and sent. A message's delivery (`messageId` set) is stored without it: its body is a
   * rendering of the stored message (`PushDelivery.message`), which it would copy (~2 KB a row).
   */
  body: string;
}

export interface PushDelivery extends Omit<NewPushDelivery, 'body'> {
  id: string;
  /**
   * The body: as made (in memory), or as stored; null for a message's delivery read back from the store, whose
   * body is rendered from `message` with `createdAt` as its timestamp (`find` reads the message with it).
   */
  body: string | null;
  /** The message of a delivery read back without its body (`find` only); undefined elsewhere. */
  message?: StoredMessage | null;
  status: PushDeliveryStatus;
  attempts: number;
  lastHttpStatus: number | null;
  lastError: string | null;
  latencyMs: number | null;
  /** A sync reply (`{"response": …}`) the reply path refused. */
  replyError: string | null;
  nextAttemptAt: Date | null;
  createdAt: Date;
  deliveredAt: Date | null;
}

/** The outcome of one attempt: `retrying` sets the next try, `delivered`/`failed` end the delivery. */
export interface PushAttempt {
  outcome: 'delivered' | 'retrying' | 'failed';
  httpStatus: number | null;
  error: string | null;
  latencyMs: number | null;
  nextAttemptAt: Date | null;
  replyError?: string | null;
}

/**
 * A delivery whose first attempt was made before it was stored (the live path): its id (made by the caller), when
 * the event was made, and the attempt's outcome, all written in one row.
 */
export interface AttemptedPushDelivery extends NewPushDelivery {
  id: string;
  createdAt: Date;
  attempt: PushAttempt;
  /** When the attempt ended (`delivered_at` of a delivered one). */
  at: Date;
}

export interface PushDeliveryFilter {
  accountId?: string;
  status?: PushDeliveryStatus;
}

/** Which rows of a list to read: at most `take`, those after `(createdAt, id)` (newest first). */
export interface PushWindow {
  after: { createdAt: string; id: string } | null;
  take: number;
}

/** Push endpoints, one per account. Secrets go in and come out in clear (sealed at rest when a key is set). */
export abstract class PushEndpointStore {
  /**
   * Creates the account's endpoint with `secret` (`created: true`), or changes the URL and events of the existing
   * one and enables it again (its secrets unchanged). A new endpoint's cursor is the account's last sequence number:
   * messages stored before it are not pushed. Null when the account does not exist.
   */
  abstract upsert(
    accountId: string,
    url: string,
    events: PushEventName[],
    secret: string,
  ): Promise<{ endpoint: PushEndpoint; created: boolean } | null>;
  abstract findByAccount(accountId: string): Promise<PushEndpoint | null>;
  abstract findById(id: string): Promise<PushEndpoint | null>;
  abstract delete(accountId: string): Promise<boolean>;
  /** The new secret signs from now on; the old one keeps signing too until `previousUntil`. */
  abstract rotateSecret(accountId: string, secret: string, previousUntil: Date): Promise<PushEndpoint | null>;
  abstract disable(endpointId: string, reason: string): Promise<PushEndpoint | null>;
  /** The enabled endpoints (all, or the account's), for the routing cache. */
  abstract routes(accountId?: string): Promise<PushRoute[]>;
  /** Enabled endpoints subscribed to `message`, with their cursor (the message sweep). */
  abstract messageCursors(): Promise<{ endpointId: string; accountId: string; cursor: number }[]>;
  /** Moves the cursor forward (never back). */
  abstract advanceCursor(endpointId: string, seq: number): Promise<void>;
  /**
   * The sweep's window: of the account's next `limit` messages above `afterSeq` (in sequence order), the highest
   * sequence number before the first one created after `settledBefore`; `afterSeq` when there is none.
   */
  abstract settledSeqAfter(
    accountId: string,
    afterSeq: number,
    settledBefore: Date,
    limit: number,
  ): Promise<number>;
  /** The account's messages in `(afterSeq, upToSeq]` that have no delivery to the endpoint yet. */
  abstract messagesWithoutDelivery(
    endpointId: string,
    accountId: string,
    afterSeq: number,
    upToSeq: number,
  ): Promise<StoredMessage[]>;
  /** Endpoints that are disabled or have failed deliveries (the dashboard). */
  abstract failing(
    limit: number,
  ): Promise<(Omit<PushEndpoint, 'secret' | 'previousSecret'> & { failed: number })[]>;
}

/** Deliveries: one per event and endpoint, their attempts, the overdue sweep and the operator's log. */
export abstract class PushDeliveryStore {
  /**
   * Stores, pending and due now, those not stored yet (same endpoint and webhook id), each under the id the caller
   * made; answers the ids stored.
   */
  abstract insert(deliveries: Array<NewPushDelivery & { id: string }>): Promise<string[]>;
  /**
   * Stores deliveries with their first attempt (one statement), those not stored yet (same endpoint and webhook
   * id: the message sweep may have made it meanwhile); answers the ids stored.
   */
  abstract insertAttempted(deliveries: AttemptedPushDelivery[]): Promise<string[]>;
  abstract find(id: string): Promise<PushDelivery | null>;
  abstract recordAttempt(id: string, attempt: PushAttempt, at: Date): Promise<void>;
  /** The common case of `recordAttempt` for many at once: each attempt `delivered` (one statement). */
  abstract recordDelivered(
    attempts: { id: string; httpStatus: number; latencyMs: number; at: Date }[],
  ): Promise<void>;
  /** Pending deliveries whose next try is before `before` (their job may be lost). */
  abstract findOverdue(before: Date, limit: number): Promise<string[]>;
  /** Puts a delivered or failed delivery back to pending, due `at` (the attempts so far are kept). */
  abstract redeliver(id: string, at: Date): Promise<PushDelivery | null>;
  abstract list(filter: PushDeliveryFilter, window: PushWindow): Promise<PushDelivery[]>;
}
