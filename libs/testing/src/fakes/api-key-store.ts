import {
  ApiKeyCreateRefusal,
  ApiKeyCredential,
  ApiKeyStore,
  ApiKeySummary,
  Clock,
  NewApiKey,
  SettingsStore,
} from '@app/core';

interface StoredKey extends ApiKeySummary {
  secretHash: string;
}

/** `ApiKeyStore` in memory for unit tests; `accounts` says which accounts exist; `now()` is the test's clock. */
export class InMemoryApiKeyStore extends ApiKeyStore {
  readonly keys = new Map<string, StoredKey>();
  readonly accounts = new Set<string>();
  lookups = 0;

  constructor(private readonly clock: Clock) {
    super();
  }

  async create(
    key: NewApiKey,
    maxPerAccount: number,
  ): Promise<{ created: ApiKeySummary } | { refused: ApiKeyCreateRefusal }> {
    if (!this.accounts.has(key.accountId)) return { refused: 'account_not_found' };
    if ((await this.listForAccount(key.accountId)).length >= maxPerAccount)
      return { refused: 'too_many_keys' };
    const stored = { ...key, createdAt: this.clock.date(), lastUsedAt: null };
    this.keys.set(key.id, stored);
    return { created: summary(stored) };
  }

  async listForAccount(accountId: string): Promise<ApiKeySummary[]> {
    return [...this.keys.values()]
      .filter((k) => k.accountId === accountId)
      .map(summary)
      .reverse();
  }

  async findByApiKey(apiKey: string): Promise<ApiKeyCredential | null> {
    this.lookups++;
    const k = [...this.keys.values()].find((x) => x.apiKey === apiKey);
    return k ? { id: k.id, accountId: k.accountId, secretHash: k.secretHash } : null;
  }

  async findAccounts(ids: readonly string[]): Promise<Map<string, string>> {
    this.lookups++;
    const found = new Map<string, string>();
    for (const id of ids) {
      const k = this.keys.get(id);
      if (k) found.set(id, k.accountId);
    }
    return found;
  }

  async touch(id: string): Promise<void> {
    const k = this.keys.get(id);
    if (k) this.keys.set(id, { ...k, lastUsedAt: this.clock.date() });
  }

  async delete(accountId: string, id: string): Promise<boolean> {
    const k = this.keys.get(id);
    if (!k || k.accountId !== accountId) return false;
    return this.keys.delete(id);
  }
}

function summary(k: StoredKey): ApiKeySummary {
  return {
    id: k.id,
    accountId: k.accountId,
    apiKey: k.apiKey,
    createdAt: k.createdAt,
    lastUsedAt: k.lastUsedAt,
  };
}

/** `SettingsStore` in memory: the first value stored wins. */
export class InMemorySettingsStore extends SettingsStore {
  readonly values = new Map<string, string>();

  async getOrCreate(name: string, candidate: string): Promise<string> {
    if (!this.values.has(name)) this.values.set(name, candidate);
    return this.values.get(name) as string;
  }
}
