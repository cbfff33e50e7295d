/** Where a pairing session stands (contract §3). */
export type SessionStatus = 'pending_pairing' | 'paired' | 'expired' | 'disconnected';

export const SESSION_STATUSES: readonly SessionStatus[] = [
  'pending_pairing',
  'paired',
  'expired',
  'disconnected',
];

/** A pairing session: the agent's credential (its token, stored hashed) and, while pending, a one-use code. */
export interface Session {
  id: string;
  status: SessionStatus;
  /** Stored without the hyphen. */
  pairingCode: string;
  /** Set when paired, or from the start for a session an operator opened for an existing account. */
  accountId: string | null;
  /** When the code (and the pending credential) stops working. */
  expiresAt: Date;
  pairedAt: Date | null;
  kakaoUserId: string | null;
  conversationKey: string | null;
}

/** What an open stream re-checks about its session on every heartbeat. */
export type SessionState = Pick<
  Session,
  'status' | 'expiresAt' | 'accountId' | 'kakaoUserId' | 'conversationKey' | 'pairedAt'
>;
