/**
 * Who is calling an agent endpoint: a pairing session (pending or paired), an account relay token, a token of
 * `POST /v1/auth/token` (`api_token`, a JWT), or — on the server endpoints (`AccountAuthGuard`) — the API key
 * pair itself (`api_key`). Every kind but a pending session is an account principal.
 */
export interface AgentPrincipal {
  kind: 'session' | 'account' | 'api_token' | 'api_key';
  sessionId: string | null;
  accountId: string | null;
  status: 'pending_pairing' | 'paired';
  /** For pending sessions: when the code (and the pending credential) expires; for `api_token`: its `exp`. */
  expiresAt: Date | null;
  /**
   * SHA-256 of the token presented (for `api_key`: of the key id): only a relay-token stream re-checks it (a
   * rotated relay token closes the stream).
   */
  tokenHash: string;
  /** The API key behind an `api_token` (its `kid`) or an `api_key` principal: streams re-check that it exists. */
  apiKeyId?: string;
}
