import { DataSource } from 'typeorm';
import { generateApiKeyPair, hashToken, uuidV7 } from '@app/core';
import { ApiKeysRepository, dataSourceOptions, SettingsRepository } from '@app/persistence';
import { sql, TEST_DATABASE_URL, truncateTables } from '@app/testing';

/** The PostgreSQL adapters of `ApiKeyStore` and `SettingsStore`: what the in-memory fakes stand in for. */
describe('API key and settings stores (e2e, real PostgreSQL)', () => {
  let db: DataSource;
  let keys: ApiKeysRepository;
  let settings: SettingsRepository;

  const newAccount = async () =>
    (await sql<{ id: string }>(`INSERT INTO accounts DEFAULT VALUES RETURNING id`))[0].id;
  const newKey = (accountId: string) => {
    const pair = generateApiKeyPair();
    return { id: uuidV7(), accountId, apiKey: pair.apiKey, secretHash: hashToken(pair.secretKey) };
  };

  beforeAll(async () => {
    await truncateTables();
    db = new DataSource(dataSourceOptions({ databaseUrl: TEST_DATABASE_URL, databasePoolSize: 8 }));
    await db.initialize();
    keys = new ApiKeysRepository(db);
    settings = new SettingsRepository(db);
  });
  afterAll(async () => {
    await db.destroy();
    await truncateTables();
  });

  it('creates, finds, lists newest first, and revokes only within the account', async () => {
    const account = await newAccount();
    const other = await newAccount();
    const first = newKey(account);
    const second = newKey(account);
    const created = await keys.create(first, 20);
    expect(created).toEqual({
      created: {
        id: first.id,
        accountId: account,
        apiKey: first.apiKey,
        createdAt: expect.any(Date),
        lastUsedAt: null,
      },
    });
    await keys.create(second, 20);
    expect((await keys.listForAccount(account)).map((k) => k.id)).toEqual([second.id, first.id]);
    expect(await keys.findByApiKey(first.apiKey)).toEqual({
      id: first.id,
      accountId: account,
      secretHash: first.secretHash,
    });
    expect(await keys.findByApiKey('ak_live_nothing')).toBeNull();
    expect(await keys.findAccounts([first.id, second.id, uuidV7()])).toEqual(
      new Map([
        [first.id, account],
        [second.id, account],
      ]),
    );
    expect(await keys.delete(other, first.id)).toBe(false);
    expect(await keys.delete(account, first.id)).toBe(true);
    expect(await keys.delete(account, first.id)).toBe(false);
    expect(await keys.findAccounts([first.id])).toEqual(new Map());
    expect(await keys.create(newKey(uuidV7()), 20)).toEqual({ refused: 'account_not_found' });
  });

  it('holds the cap per account under concurrent creation', async () => {
    const account = await newAccount();
    const results = await Promise.all(Array.from({ length: 8 }, () => keys.create(newKey(account), 5)));
    expect(results.filter((r) => 'created' in r)).toHaveLength(5);
    expect(results.filter((r) => 'refused' in r && r.refused === 'too_many_keys')).toHaveLength(3);
    expect(await keys.listForAccount(account)).toHaveLength(5);
  });

  it('touch sets last_used_at, then not again within the minute', async () => {
    const account = await newAccount();
    const key = newKey(account);
    await keys.create(key, 20);
    await keys.touch(key.id);
    const [once] = await keys.listForAccount(account);
    expect(once.lastUsedAt).toBeInstanceOf(Date);
    await sql(`UPDATE api_keys SET last_used_at = now() - interval '30 seconds' WHERE id = $1`, [key.id]);
    const [before] = await keys.listForAccount(account);
    await keys.touch(key.id);
    expect((await keys.listForAccount(account))[0].lastUsedAt).toEqual(before.lastUsedAt);
    await sql(`UPDATE api_keys SET last_used_at = now() - interval '61 seconds' WHERE id = $1`, [key.id]);
    await keys.touch(key.id);
    expect((await keys.listForAccount(account))[0].lastUsedAt!.getTime()).toBeGreaterThan(
      before.lastUsedAt!.getTime(),
    );
  });

  it('deleting the account deletes its keys', async () => {
    const account = await newAccount();
    const key = newKey(account);
    await keys.create(key, 20);
    await sql(`DELETE FROM accounts WHERE id = $1`, [account]);
    expect(await keys.findAccounts([key.id])).toEqual(new Map());
  });

  it('settings: replicas racing to create a value all get the one stored first', async () => {
    const name = `race-${uuidV7()}`;
    const values = await Promise.all(
      Array.from({ length: 8 }, (_, i) => settings.getOrCreate(name, `candidate-${i}`)),
    );
    expect(new Set(values).size).toBe(1);
    expect(await settings.getOrCreate(name, 'later')).toBe(values[0]);
    await sql(`DELETE FROM relay_settings WHERE name = $1`, [name]);
  });
});
