import { DataSource } from 'typeorm';
import type { Session } from '@app/core';
import {
  AccountsRepository,
  CleanupRepository,
  ConversationsRepository,
  dataSourceOptions,
  PairingRepository,
  SessionsRepository,
} from '@app/persistence';
import { sql, TEST_DATABASE_URL, truncateTables } from '@app/testing';

/** The PostgreSQL adapters of the pairing ports: what the in-memory fakes of the unit tests stand in for. */
describe('pairing stores (e2e, real PostgreSQL)', () => {
  let db: DataSource;
  let sessions: SessionsRepository;
  let accounts: AccountsRepository;
  let conversations: ConversationsRepository;
  let pairing: PairingRepository;
  let cleanup: CleanupRepository;
  let n = 0;
  const hash = () => String(++n).padStart(64, '0');
  const pending = (pairingCode: string, expiresAt = new Date(Date.now() + 300_000), accountId = null) =>
    sessions.createPending({ tokenHash: hash(), pairingCode, expiresAt, accountId });
  /** Resolves once a backend of this database waits for a lock (the second transaction queued on the row). */
  const someoneWaitsOnALock = async () => {
    for (;;) {
      const [row] = await sql<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
      );
      if (row.n > 0) return;
    }
  };
  const identity = (userId: string) => ({ channelId: 'bot', userId, conversationKey: `bot:${userId}` });

  beforeAll(async () => {
    await truncateTables();
    db = new DataSource(dataSourceOptions({ databaseUrl: TEST_DATABASE_URL, databasePoolSize: 4 }));
    await db.initialize();
    sessions = new SessionsRepository(db);
    accounts = new AccountsRepository(db);
    conversations = new ConversationsRepository(db);
    pairing = new PairingRepository(db);
    cleanup = new CleanupRepository(db);
  });
  afterAll(async () => {
    await db.destroy();
    await truncateTables();
  });

  it('reads sessions as Session records', async () => {
    const expiresAt = new Date(Date.now() + 300_000);
    const created = await pending('AAAA2222', expiresAt);
    expect(created).toEqual({
      id: expect.any(String),
      status: 'pending_pairing',
      pairingCode: 'AAAA2222',
      accountId: null,
      expiresAt,
      pairedAt: null,
      kakaoUserId: null,
      conversationKey: null,
    });
    expect(await sessions.findById((created as Session).id)).toEqual(created);
    expect(await sessions.findByTokenHash(String(n).padStart(64, '0'))).toEqual(created);
    expect(await sessions.findById('00000000-0000-0000-0000-000000000000')).toBeNull();
  });

  it('createPending answers null while a pending session holds the code, and the code is free once it ended', async () => {
    const first = (await pending('BBBB2222')) as Session;
    expect(await pending('BBBB2222')).toBeNull();
    await sessions.disconnect(first.id);
    expect(await pending('BBBB2222')).toMatchObject({ pairingCode: 'BBBB2222' });
    // A token collision is not a code collision: it is not retried with another code.
    const tokenHash = hash();
    await sessions.createPending({
      tokenHash,
      pairingCode: 'CCCC2222',
      expiresAt: new Date(),
      accountId: null,
    });
    await expect(
      sessions.createPending({ tokenHash, pairingCode: 'DDDD2222', expiresAt: new Date(), accountId: null }),
    ).rejects.toMatchObject({ code: '23505' });
  });

  it('expireIfLapsed takes effect at the expiry instant, once', async () => {
    const expiresAt = new Date(Date.now() + 60_000);
    const session = (await pending('EEEE2222', expiresAt)) as Session;
    expect(await sessions.expireIfLapsed(session.id, new Date(expiresAt.getTime() - 1))).toBe(false);
    expect(await sessions.expireIfLapsed(session.id, expiresAt)).toBe(true);
    expect(await sessions.expireIfLapsed(session.id, expiresAt)).toBe(false);
    const [row] = await sql<{ status: string; ended_at: Date | null }>(
      'SELECT status, ended_at FROM sessions WHERE id = $1',
      [session.id],
    );
    expect(row.status).toBe('expired');
    expect(row.ended_at).toBeInstanceOf(Date);
  });

  it('expireLapsed expires at most a batch of lapsed pending sessions and answers their ids', async () => {
    // Long ago: the pending sessions of the other tests have not lapsed by then.
    const now = new Date('2020-01-01T00:00:00Z');
    const lapsed = await Promise.all(['FFFF2222', 'FFFF3333', 'FFFF4444'].map((c) => pending(c, now)));
    const later = (await pending('FFFF5555', new Date(now.getTime() + 1))) as Session;
    const first = await sessions.expireLapsed(now, 2);
    const rest = await sessions.expireLapsed(now, 2);
    expect(first).toHaveLength(2);
    expect([...first, ...rest].sort()).toEqual(lapsed.map((s) => (s as Session).id).sort());
    expect(await sessions.expireLapsed(now, 2)).toEqual([]);
    expect((await sessions.findById(later.id))?.status).toBe('pending_pairing');
    const states = await sessions.findStates([later.id, first[0], '00000000-0000-0000-0000-000000000000']);
    expect([...states.keys()].sort()).toEqual([later.id, first[0]].sort());
    expect(states.get(first[0])).toMatchObject({ status: 'expired', expiresAt: now });
  });

  it('one pairing transaction per code: the second waits on the lock, then finds the code spent', async () => {
    const session = (await pending('GGGG2222')) as Session;
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let locked!: () => void;
    const firstLocked = new Promise<void>((resolve) => (locked = resolve));
    const first = pairing.transaction(async (tx) => {
      const found = await tx.lockPendingSessionByCode('GGGG2222');
      locked();
      await held;
      const accountId = await tx.createAccount();
      await tx.pairConversation(identity('winner'), accountId);
      return tx
        .markSessionPaired(session.id, { accountId, kakaoUserId: 'winner', conversationKey: 'bot:winner' })
        .then(() => found?.id);
    });
    await firstLocked;
    const second = pairing.transaction((tx) => tx.lockPendingSessionByCode('GGGG2222'));
    await someoneWaitsOnALock();
    release();
    expect(await first).toBe(session.id);
    expect(await second).toBeNull();
    expect(await sessions.findById(session.id)).toMatchObject({
      status: 'paired',
      kakaoUserId: 'winner',
      conversationKey: 'bot:winner',
      pairedAt: expect.any(Date),
    });
    expect(await conversations.findByKey('bot:winner')).toEqual({
      id: expect.any(String),
      conversationKey: 'bot:winner',
      channelId: 'bot',
      userId: 'winner',
      accountId: expect.any(String),
      state: 'paired',
      pairedAt: expect.any(Date),
      unpairedAt: null,
    });
  });

  it('a transaction that throws leaves nothing behind', async () => {
    await expect(
      pairing.transaction(async (tx) => {
        const accountId = await tx.createAccount();
        await tx.pairConversation(identity('rolled-back'), accountId);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await conversations.findByKey('bot:rolled-back')).toBeNull();
  });

  it('counts paired conversations, disconnects paired sessions, unpairs and deletes conversations', async () => {
    const { accountId, sessionId } = await pairing.transaction(async (tx) => {
      const accountId = await tx.createAccount();
      await tx.pairConversation(identity('u1'), accountId);
      await tx.pairConversation(identity('u2'), accountId);
      const s = (await pending('HHHH2222')) as Session;
      return { accountId, sessionId: s.id };
    });
    await pairing.transaction((tx) =>
      tx.markSessionPaired(sessionId, { accountId, kakaoUserId: 'u1', conversationKey: 'bot:u1' }),
    );
    const leftOver = await pairing.transaction(async (tx) => {
      await tx.unpairConversation('bot:u1');
      const u2 = await tx.lockConversationByKey('bot:u2');
      expect(await tx.lockConversationById(u2?.id ?? '')).toEqual(u2);
      expect(await tx.deleteConversation(u2?.id ?? '')).toBe(true);
      return tx.countPairedConversations(accountId);
    });
    expect(leftOver).toBe(0);
    expect(await conversations.findByKey('bot:u1')).toMatchObject({
      state: 'unpaired',
      unpairedAt: expect.any(Date),
    });
    expect(await pairing.transaction((tx) => tx.disconnectPairedSessions(accountId))).toEqual([sessionId]);
    expect(await pairing.transaction((tx) => tx.disconnectPairedSessions(accountId))).toEqual([]);
  });

  it('accounts: relay token, batch lookup, deletion with sessions (conversations unpaired first)', async () => {
    const accountId = await pairing.transaction(async (tx) => {
      const id = await tx.createAccount();
      await tx.pairConversation(identity('owner'), id);
      return id;
    });
    const session = (await sessions.createPending({
      tokenHash: hash(),
      pairingCode: 'JJJJ2222',
      expiresAt: new Date(Date.now() + 60_000),
      accountId,
    })) as Session;
    expect(session.accountId).toBe(accountId);
    expect(await accounts.setRelayTokenHash(accountId, 'f'.repeat(64))).toBe(true);
    expect(await accounts.findByRelayTokenHash('f'.repeat(64))).toEqual({
      id: accountId,
      relayTokenHash: 'f'.repeat(64),
      createdAt: expect.any(Date),
    });
    expect(await accounts.findRelayTokenHashes([accountId])).toEqual(new Map([[accountId, 'f'.repeat(64)]]));
    expect(await accounts.deleteWithSessions(accountId)).toEqual({ deleted: true, sessionIds: [session.id] });
    expect(await accounts.findById(accountId)).toBeNull();
    expect(await sessions.findById(session.id)).toBeNull();
    expect(await conversations.findByKey('bot:owner')).toMatchObject({ state: 'unpaired', accountId: null });
    expect(await accounts.deleteWithSessions(accountId)).toEqual({ deleted: false, sessionIds: [] });
  });

  it('cleanup: deletes sessions ended over a day ago; records runs and reads the last one', async () => {
    const old = (await pending('KKKK2222')) as Session;
    await sessions.disconnect(old.id);
    await sql(`UPDATE sessions SET ended_at = now() - interval '25 hours' WHERE id = $1`, [old.id]);
    expect(await sessions.deleteEndedLongAgo(1000)).toBe(1);
    expect(await sessions.findById(old.id)).toBeNull();
    const startedAt = new Date(Date.now() - 1000);
    await cleanup.recordRun('replica-1', startedAt, { expiredSessions: 3 });
    expect(await cleanup.lastRun()).toEqual({
      instance: 'replica-1',
      startedAt,
      finishedAt: expect.any(Date),
      results: { expiredSessions: 3 },
    });
    expect(await cleanup.deleteOldRuns(0)).toBe(1);
    expect(await cleanup.lastRun()).toBeNull();
  });
});
