import type { ApiKeyCredential, ApiKeySummary } from '../domain/api-key';

/** A key to store: the secret only as its hash. */
export interface NewApiKey {
  id: string;
  accountId: string;
  apiKey: string;
  secretHash: string;
}

/** Why a key was not created. */
export type ApiKeyCreateRefusal = 'account_not_found' | 'too_many_keys';

/**
 * The accounts' API keys (server-mode.md §1). A revoked key is deleted: its row is gone, so every check of it —
 * the key pair, the tokens signed for it (`kid`), the streams opened with them — finds nothing.
 */
export abstract class ApiKeyStore {
  /** Stores the key unless the account is missing or already holds `maxPerAccount` keys (checked atomically). */
  abstract create(
    key: NewApiKey,
    maxPerAccount: number,
  ): Promise<{ created: ApiKeySummary } | { refused: ApiKeyCreateRefusal }>;

  /** The account's keys, newest first. */
  abstract listForAccount(accountId: string): Promise<ApiKeySummary[]>;

  /** The stored credential of a public key, or null. */
  abstract findByApiKey(apiKey: string): Promise<ApiKeyCredential | null>;

  /** Which of these key ids still exist, with their account, in one round trip (the per-request check). */
  abstract findAccounts(ids: readonly string[]): Promise<Map<string, string>>;

  /** Sets `last_used_at` to now unless it was set less than a minute ago (a no-op update otherwise). */
  abstract touch(id: string): Promise<void>;

  /** Revokes (deletes) the key of this account; false when there is no such key. */
  abstract delete(accountId: string, id: string): Promise<boolean>;
}
