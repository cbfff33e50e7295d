/** Who is calling an agent endpoint: a pairing session (pending or paired) or an account relay token. */
export interface AgentPrincipal {
  kind: 'session' | 'account';
  sessionId: string | null;
  accountId: string | null;
  status: 'pending_pairing' | 'paired';
  /** For pending sessions: when the code (and the pending credential) expires. */
  expiresAt: Date | null;
  /** SHA-256 of the token presented: an open stream re-checks it (a rotated relay token closes the stream). */
  tokenHash: string;
}
