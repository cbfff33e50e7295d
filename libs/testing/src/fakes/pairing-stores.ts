import {
  Account,
  AccountStore,
  Clock,
  Conversation,
  ConversationIdentity,
  ConversationStore,
  NewPendingSession,
  PairingStore,
  PairingTransaction,
  Session,
  SessionPairing,
  SessionState,
  SessionStore,
} from '@app/core';
import { AccountEventTaps, ChannelEnvelope, PubSubService, StreamEventPublisher } from '@app/messaging';

/**
 * Plain in-memory fakes of the pairing ports for unit tests: one set of tables shared by all the stores, the
 * database's `now()` read from the test's `Clock`. Records are replaced, never mutated, so a transaction rolls
 * back by putting the previous maps back.
 */
export interface StoredSession extends Session {
  tokenHash: string;
  endedAt: Date | null;
}

export class PairingTables {
  sessions = new Map<string, StoredSession>();
  accounts = new Map<string, Account>();
  conversations = new Map<string, Conversation>();
  private seq = 0;

  constructor(readonly clock: Clock) {}

  id(prefix: string): string {
    return `${prefix}-${++this.seq}`;
  }

  now(): Date {
    return this.clock.date();
  }

  /** A session as a test wants it (pending, expiring in five minutes, unless told otherwise). */
  addSession(fields: Partial<StoredSession> = {}): StoredSession {
    const session: StoredSession = {
      id: this.id('session'),
      status: 'pending_pairing',
      pairingCode: `CODE${this.seq}`.padEnd(8, '2').slice(0, 8),
      accountId: null,
      expiresAt: new Date(this.clock.now() + 300_000),
      pairedAt: null,
      kakaoUserId: null,
      conversationKey: null,
      tokenHash: `hash-${this.seq}`,
      endedAt: null,
      ...fields,
    };
    this.sessions.set(session.id, session);
    return session;
  }

  addAccount(fields: Partial<Account> = {}): Account {
    const account: Account = {
      id: this.id('account'),
      relayTokenHash: null,
      createdAt: this.now(),
      ...fields,
    };
    this.accounts.set(account.id, account);
    return account;
  }

  /** A conversation paired to the account (or as told). */
  addConversation(identity: ConversationIdentity, fields: Partial<Conversation> = {}): Conversation {
    const conversation: Conversation = {
      id: this.id('conversation'),
      ...identity,
      accountId: null,
      state: 'paired',
      pairedAt: this.now(),
      unpairedAt: null,
      ...fields,
    };
    this.conversations.set(conversation.id, conversation);
    return conversation;
  }

  session(id: string): StoredSession {
    const s = this.sessions.get(id);
    if (!s) throw new Error(`no session ${id}`);
    return s;
  }

  conversationByKey(conversationKey: string): Conversation | null {
    return [...this.conversations.values()].find((c) => c.conversationKey === conversationKey) ?? null;
  }

  updateSession(id: string, change: Partial<StoredSession>): StoredSession {
    const next = { ...this.session(id), ...change };
    this.sessions.set(id, next);
    return next;
  }

  snapshot(): () => void {
    const [sessions, accounts, conversations] = [
      new Map(this.sessions),
      new Map(this.accounts),
      new Map(this.conversations),
    ];
    return () => {
      this.sessions = sessions;
      this.accounts = accounts;
      this.conversations = conversations;
    };
  }
}

function publicSession({ tokenHash: _t, endedAt: _e, ...session }: StoredSession): Session {
  return session;
}

export class InMemorySessionStore extends SessionStore {
  constructor(private readonly t: PairingTables) {
    super();
  }

  async createPending(input: NewPendingSession): Promise<Session | null> {
    const taken = [...this.t.sessions.values()].some(
      (s) => s.status === 'pending_pairing' && s.pairingCode === input.pairingCode,
    );
    if (taken) return null;
    return publicSession(this.t.addSession({ ...input }));
  }

  async findByTokenHash(tokenHash: string): Promise<Session | null> {
    const found = [...this.t.sessions.values()].find((s) => s.tokenHash === tokenHash);
    return found ? publicSession(found) : null;
  }

  async findById(id: string): Promise<Session | null> {
    const found = this.t.sessions.get(id);
    return found ? publicSession(found) : null;
  }

  async findStates(ids: readonly string[]): Promise<Map<string, SessionState>> {
    const states = new Map<string, SessionState>();
    for (const id of ids) {
      const s = this.t.sessions.get(id);
      if (s) states.set(id, publicSession(s));
    }
    return states;
  }

  async expireIfLapsed(id: string, now: Date): Promise<boolean> {
    const s = this.t.sessions.get(id);
    if (!s || s.status !== 'pending_pairing' || s.expiresAt.getTime() > now.getTime()) return false;
    this.t.updateSession(id, { status: 'expired', endedAt: this.t.now() });
    return true;
  }

  async expireLapsed(now: Date, limit: number): Promise<string[]> {
    const due = [...this.t.sessions.values()]
      .filter((s) => s.status === 'pending_pairing' && s.expiresAt.getTime() <= now.getTime())
      .slice(0, limit);
    for (const s of due) this.t.updateSession(s.id, { status: 'expired', endedAt: this.t.now() });
    return due.map((s) => s.id);
  }

  async disconnect(id: string): Promise<boolean> {
    const s = this.t.sessions.get(id);
    if (!s || (s.status !== 'pending_pairing' && s.status !== 'paired')) return false;
    this.t.updateSession(id, { status: 'disconnected', endedAt: this.t.now() });
    return true;
  }

  async deleteById(id: string): Promise<boolean> {
    return this.t.sessions.delete(id);
  }

  async deleteEndedLongAgo(limit: number): Promise<number> {
    const dayAgo = this.t.clock.now() - 86_400_000;
    const old = [...this.t.sessions.values()]
      .filter(
        (s) =>
          (s.status === 'expired' || s.status === 'disconnected') && (s.endedAt?.getTime() ?? 0) < dayAgo,
      )
      .slice(0, limit);
    for (const s of old) this.t.sessions.delete(s.id);
    return old.length;
  }
}

export class InMemoryAccountStore extends AccountStore {
  constructor(private readonly t: PairingTables) {
    super();
  }

  async findById(id: string): Promise<Account | null> {
    return this.t.accounts.get(id) ?? null;
  }

  async findByRelayTokenHash(relayTokenHash: string): Promise<Account | null> {
    return [...this.t.accounts.values()].find((a) => a.relayTokenHash === relayTokenHash) ?? null;
  }

  async findRelayTokenHashes(ids: readonly string[]): Promise<Map<string, string | null>> {
    const hashes = new Map<string, string | null>();
    for (const id of ids) {
      const a = this.t.accounts.get(id);
      if (a) hashes.set(id, a.relayTokenHash);
    }
    return hashes;
  }

  async setRelayTokenHash(id: string, relayTokenHash: string): Promise<boolean> {
    const a = this.t.accounts.get(id);
    if (!a) return false;
    this.t.accounts.set(id, { ...a, relayTokenHash });
    return true;
  }

  async deleteWithSessions(id: string): Promise<{ deleted: boolean; sessionIds: string[] }> {
    const sessionIds = [...this.t.sessions.values()].filter((s) => s.accountId === id).map((s) => s.id);
    for (const c of this.t.conversations.values()) {
      if (c.accountId === id) {
        this.t.conversations.set(c.id, {
          ...c,
          state: 'unpaired',
          unpairedAt: this.t.now(),
          accountId: null,
        });
      }
    }
    for (const sid of sessionIds) this.t.sessions.delete(sid);
    return { deleted: this.t.accounts.delete(id), sessionIds };
  }
}

export class InMemoryConversationStore extends ConversationStore {
  constructor(private readonly t: PairingTables) {
    super();
  }

  async findById(id: string): Promise<Conversation | null> {
    return this.t.conversations.get(id) ?? null;
  }

  async findByKey(conversationKey: string): Promise<Conversation | null> {
    return this.t.conversationByKey(conversationKey);
  }
}

class InMemoryPairingTransaction implements PairingTransaction {
  constructor(private readonly t: PairingTables) {}

  async lockPendingSessionByCode(pairingCode: string): Promise<Session | null> {
    const found = [...this.t.sessions.values()].find(
      (s) => s.status === 'pending_pairing' && s.pairingCode === pairingCode,
    );
    return found ? publicSession(found) : null;
  }

  async lockConversationByKey(conversationKey: string): Promise<Conversation | null> {
    return this.t.conversationByKey(conversationKey);
  }

  async lockConversationById(id: string): Promise<Conversation | null> {
    return this.t.conversations.get(id) ?? null;
  }

  async createAccount(): Promise<string> {
    return this.t.addAccount().id;
  }

  async pairConversation(identity: ConversationIdentity, accountId: string): Promise<void> {
    const existing = this.t.conversationByKey(identity.conversationKey);
    const paired = { accountId, state: 'paired' as const, pairedAt: this.t.now(), unpairedAt: null };
    if (existing) this.t.conversations.set(existing.id, { ...existing, ...paired });
    else this.t.addConversation(identity, paired);
  }

  async unpairConversation(conversationKey: string): Promise<void> {
    const c = this.t.conversationByKey(conversationKey);
    if (c) this.t.conversations.set(c.id, { ...c, state: 'unpaired', unpairedAt: this.t.now() });
  }

  async deleteConversation(id: string): Promise<boolean> {
    return this.t.conversations.delete(id);
  }

  async markSessionPaired(sessionId: string, pairing: SessionPairing): Promise<Date> {
    const pairedAt = this.t.now();
    this.t.updateSession(sessionId, { ...pairing, status: 'paired', pairedAt });
    return pairedAt;
  }

  async countPairedConversations(accountId: string): Promise<number> {
    return [...this.t.conversations.values()].filter((c) => c.accountId === accountId && c.state === 'paired')
      .length;
  }

  async disconnectPairedSessions(accountId: string): Promise<string[]> {
    const paired = [...this.t.sessions.values()].filter(
      (s) => s.accountId === accountId && s.status === 'paired',
    );
    for (const s of paired) this.t.updateSession(s.id, { status: 'disconnected', endedAt: this.t.now() });
    return paired.map((s) => s.id);
  }
}

/**
 * Transactions run one at a time (as if every one locked every row it reads: stricter than PostgreSQL's row
 * locks, the same outcome for transactions on one code or one conversation); a throw rolls the tables back.
 */
export class InMemoryPairingStore extends PairingStore {
  private queue: Promise<unknown> = Promise.resolve();
  private failure: { step: keyof PairingTransaction; error: Error } | null = null;
  transactions = 0;

  constructor(private readonly t: PairingTables) {
    super();
  }

  /** The next transactions fail at this statement (as if the database went away there). */
  failAt(step: keyof PairingTransaction, error = new Error('connection lost')): void {
    this.failure = { step, error };
  }

  transaction<T>(work: (tx: PairingTransaction) => Promise<T>): Promise<T> {
    const run = this.queue.then(async () => {
      this.transactions++;
      const rollback = this.t.snapshot();
      try {
        return await work(this.statements());
      } catch (e) {
        rollback();
        throw e;
      }
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private statements(): PairingTransaction {
    const tx = new InMemoryPairingTransaction(this.t);
    if (!this.failure) return tx;
    const { step, error } = this.failure;
    return Object.assign(Object.create(tx) as PairingTransaction, { [step]: () => Promise.reject(error) });
  }
}

/** A `StreamEventPublisher` that records what it would publish instead of talking to Redis. */
export class RecordingEventPublisher extends StreamEventPublisher {
  readonly published: Array<{ channel: 'session' | 'account'; id: string; envelope: ChannelEnvelope }> = [];

  constructor() {
    super(undefined as unknown as PubSubService, new AccountEventTaps());
  }

  override async toSession(sessionId: string, envelope: ChannelEnvelope): Promise<number> {
    this.published.push({ channel: 'session', id: sessionId, envelope });
    return 1;
  }

  override async toAccount(accountId: string, envelope: ChannelEnvelope): Promise<number> {
    this.published.push({ channel: 'account', id: accountId, envelope });
    return 1;
  }

  /** `[sessionId, kind, data]` of every session event, in order. */
  sessionEvents(): Array<[string, string, unknown]> {
    return this.published
      .filter((p) => p.channel === 'session')
      .map((p) => [p.id, p.envelope.kind, 'data' in p.envelope ? p.envelope.data : undefined]);
  }
}

/** The pairing ports wired to one set of tables, and a recording publisher. */
export function fakePairingPorts(clock: Clock) {
  const tables = new PairingTables(clock);
  return {
    tables,
    sessions: new InMemorySessionStore(tables),
    accounts: new InMemoryAccountStore(tables),
    conversations: new InMemoryConversationStore(tables),
    pairing: new InMemoryPairingStore(tables),
    events: new RecordingEventPublisher(),
  };
}
