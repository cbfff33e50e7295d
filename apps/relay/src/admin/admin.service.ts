import { Injectable } from '@nestjs/common';
import { AccountStore, CleanupStore, generateToken, hashToken, NotFoundError, SessionStore } from '@app/core';
import { StreamEventPublisher, StreamPresence } from '@app/messaging';
import { AdminReadRepository } from '@app/persistence';
import { BotBindings, PairingAdmin } from '@app/pairing';
import {
  AccountDetailDto,
  AdminCreatedSessionDto,
  CONVERSATION_STATE_VALUES,
  INBOUND_STATUS_VALUES,
  OUTBOUND_STATUS_VALUES,
  OverviewDto,
  RelayTokenDto,
  SESSION_STATUS_VALUES,
  SessionStateDto,
} from './dto/admin.dto';
import { toJson } from './page-cursor';

function withZeros<K extends string>(keys: readonly K[], counts: Record<string, number>): Record<K, number> {
  return Object.fromEntries(keys.map((k) => [k, counts[k] ?? 0])) as Record<K, number>;
}

function total(counts: Record<string, number>): number {
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

/** What the operator can see and do; reads go through the admin read model, changes through the features. */
@Injectable()
export class AdminService {
  constructor(
    private readonly read: AdminReadRepository,
    private readonly accounts: AccountStore,
    private readonly sessions: SessionStore,
    private readonly cleanup: CleanupStore,
    private readonly pairing: PairingAdmin,
    private readonly presence: StreamPresence,
    private readonly events: StreamEventPublisher,
    private readonly bindings: BotBindings,
  ) {}

  async overview(): Promise<OverviewDto> {
    const [counts, streams, lastRun] = await Promise.all([
      this.read.overview(),
      this.presence.total().catch(() => ({ streams: 0, replicas: 0 })),
      this.cleanup.lastRun(),
    ]);
    return {
      accounts: counts.accounts,
      sessions: withZeros(SESSION_STATUS_VALUES, counts.sessions),
      conversations: withZeros(CONVERSATION_STATE_VALUES, counts.conversations),
      inbound: { total: total(counts.inbound), ...withZeros(INBOUND_STATUS_VALUES, counts.inbound) },
      outbound: { total: total(counts.outbound), ...withZeros(OUTBOUND_STATUS_VALUES, counts.outbound) },
      streams: { connected: streams.streams, replicas: streams.replicas },
      lastCleanup: lastRun
        ? {
            startedAt: lastRun.startedAt.toISOString(),
            finishedAt: lastRun.finishedAt.toISOString(),
            results: lastRun.results,
          }
        : null,
      generatedAt: new Date().toISOString(),
    };
  }

  async requireAccount(accountId: string) {
    const account = await this.read.account(accountId);
    if (!account) throw new NotFoundError('ACCOUNT_NOT_FOUND', 'No account has this id.');
    return account;
  }

  async accountDetail(accountId: string): Promise<AccountDetailDto> {
    const account = await this.requireAccount(accountId);
    const stats = await this.read.accountStats(accountId);
    return { ...toJson(account), inbound: stats.inbound, outbound: stats.outbound };
  }

  /** A new relay token for the account; the previous one stops working and its streams are closed. */
  async mintRelayToken(accountId: string): Promise<RelayTokenDto> {
    await this.requireAccount(accountId);
    const relayToken = generateToken();
    await this.accounts.setRelayTokenHash(accountId, hashToken(relayToken));
    await this.events
      .toAccount(accountId, {
        kind: 'pairing_expired',
        data: { reason: 'disconnected' },
        scope: 'account_token',
      })
      .catch(() => undefined);
    return { accountId, relayToken };
  }

  async createSession(accountId: string | null): Promise<AdminCreatedSessionDto> {
    if (accountId) await this.requireAccount(accountId);
    const { sessionId, body } = await this.pairing.openSession(accountId);
    return { sessionId, ...body, accountId };
  }

  async disconnectSession(sessionId: string): Promise<SessionStateDto> {
    if (!(await this.pairing.disconnectSession(sessionId))) {
      throw new NotFoundError('SESSION_NOT_FOUND', 'No session has this id.');
    }
    const session = await this.sessions.findById(sessionId);
    return { id: sessionId, status: session?.status ?? 'disconnected' };
  }

  async deleteSession(sessionId: string): Promise<void> {
    if (!(await this.pairing.deleteSession(sessionId))) {
      throw new NotFoundError('SESSION_NOT_FOUND', 'No session has this id.');
    }
  }

  async deleteConversation(conversationId: string): Promise<void> {
    if (!(await this.pairing.deleteConversation(conversationId))) {
      throw new NotFoundError('CONVERSATION_NOT_FOUND', 'No conversation has this id.');
    }
  }

  /** Deletes the account and all it owns; every stream of it (session or relay token) is told and closed. */
  async deleteAccount(accountId: string): Promise<void> {
    const { deleted, sessionIds } = await this.accounts.deleteWithSessions(accountId);
    if (!deleted) throw new NotFoundError('ACCOUNT_NOT_FOUND', 'No account has this id.');
    const envelope = { kind: 'pairing_expired' as const, data: { reason: 'disconnected' as const } };
    await this.events.toSessionsBestEffort(sessionIds, envelope);
    await this.events.toAccount(accountId, envelope).catch(() => undefined);
    // Its bot bindings went with it (cascade): every replica forgets them now.
    await this.bindings.announce();
  }
}
