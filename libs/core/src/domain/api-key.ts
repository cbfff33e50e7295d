/** An account's API key as the operator sees it: never its secret (server-mode.md §1). */
export interface ApiKeySummary {
  id: string;
  accountId: string;
  /** The public half, `ak_live_<random>`. */
  apiKey: string;
  createdAt: Date;
  /** Updated at most about once a minute per key. */
  lastUsedAt: Date | null;
}

/** What checking a key pair needs: the stored hash of the secret. */
export interface ApiKeyCredential {
  id: string;
  accountId: string;
  /** SHA-256 (hex) of the secret key. */
  secretHash: string;
}
