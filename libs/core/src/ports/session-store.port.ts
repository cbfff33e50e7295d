import type { Session, SessionState } from '../domain/session';

export interface NewPendingSession {
  tokenHash: string;
  /** Without the hyphen. */
  pairingCode: string;
  expiresAt: Date;
  /** An existing account the session will pair to (admin: a second user for one agent), or null. */
  accountId: string | null;
}

/** The pairing sessions. Transactions that span sessions and conversations are `PairingStore`'s. */
export abstract class SessionStore {
  /** Inserts a pending session; null when a live session already holds the code (draw another one). */
  abstract createPending(input: NewPendingSession): Promise<Session | null>;

  abstract findByTokenHash(tokenHash: string): Promise<Session | null>;

  abstract findById(id: string): Promise<Session | null>;

  /** The current state of several sessions in one round trip; an id without an entry was deleted. */
  abstract findStates(ids: readonly string[]): Promise<Map<string, SessionState>>;

  /**
   * Expires the session if it is still pending and its expiry instant is at or before `now`; true when this
   * call expired it (false: already expired, paired, disconnected, gone, or not due).
   */
  abstract expireIfLapsed(id: string, now: Date): Promise<boolean>;

  /** Expires at most `limit` pending sessions whose expiry instant is at or before `now`; their ids. */
  abstract expireLapsed(now: Date, limit: number): Promise<string[]>;

  /** Ends a live (pending or paired) session by the operator's hand; true if it was live. */
  abstract disconnect(id: string): Promise<boolean>;

  /** Deletes the session; true if it existed. */
  abstract deleteById(id: string): Promise<boolean>;

  /** Deletes at most `limit` sessions that ended (expired or disconnected) more than a day ago; how many. */
  abstract deleteEndedLongAgo(limit: number): Promise<number>;
}
