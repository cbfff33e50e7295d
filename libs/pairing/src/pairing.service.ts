import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { RELAY_CONFIG, RelayConfig } from '@app/config';
import {
  ConversationIdentity,
  formatPairingCode,
  generatePairingCode,
  generateToken,
  hashToken,
  isWellFormedToken,
  NotFoundError,
} from '@app/core';
import { StreamEventPublisher } from '@app/messaging';
import {
  AccountsRepository,
  ConversationsRepository,
  SessionEntity,
  SessionsRepository,
} from '@app/persistence';
import { CreateSessionResponseDto, SessionStatusResponseDto } from './dto/pairing.dto';

export type PairOutcome =
  | { ok: true; accountId: string; sessionId: string; pairedAt: Date; displacedSessions: string[] }
  | { ok: false; reason: 'invalid_code' };

export type UnpairOutcome =
  { ok: true; disconnectedSessions: string[] } | { ok: false; reason: 'not_paired' };

function isUniqueViolation(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { code?: string }).code === '23505';
}

/**
 * Pairing sessions: creation, status, the `/pair` and `/unpair` transactions, and expiry that takes effect at
 * the expiry instant (checked on every use, not by a timer somewhere).
 */
@Injectable()
export class PairingService {
  private readonly logger = new Logger(PairingService.name);

  constructor(
    @Inject(RELAY_CONFIG) private readonly config: RelayConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly sessions: SessionsRepository,
    private readonly accounts: AccountsRepository,
    private readonly conversations: ConversationsRepository,
    private readonly events: StreamEventPublisher,
  ) {}

  /** A new pending session with a fresh code. */
  async createSession(): Promise<CreateSessionResponseDto> {
    return (await this.openSession(null)).body;
  }

  /** A new pending session, optionally bound to an existing account (admin: a second user for one agent). */
  async openSession(
    accountId: string | null,
  ): Promise<{ sessionId: string; body: CreateSessionResponseDto }> {
    const token = generateToken();
    const ttl = this.config.sessionTtlSeconds;
    for (let attempt = 0; ; attempt++) {
      const code = generatePairingCode();
      try {
        const session = await this.sessions.createPending({
          tokenHash: hashToken(token),
          pairingCode: code,
          expiresAt: new Date(Date.now() + ttl * 1000),
          accountId,
        });
        return {
          sessionId: session.id,
          body: {
            sessionToken: token,
            pairingCode: formatPairingCode(code),
            expiresIn: ttl,
            status: 'pending_pairing',
          },
        };
      } catch (e) {
        // A live session already holds this code (1 in 2^40 per live code): draw another.
        if (!isUniqueViolation(e) || attempt >= 5) throw e;
      }
    }
  }

  async statusByToken(token: string): Promise<SessionStatusResponseDto> {
    const session = isWellFormedToken(token) ? await this.sessions.findByTokenHash(hashToken(token)) : null;
    if (!session) throw new NotFoundError('SESSION_NOT_FOUND', 'No pairing session has this token.');
    const current = await this.applyExpiry(session);
    const body: SessionStatusResponseDto = { status: current.status };
    if (current.pairedAt) body.pairedAt = current.pairedAt.toISOString();
    if (current.kakaoUserId) body.kakaoUserId = current.kakaoUserId;
    if (current.accountId && current.status !== 'pending_pairing') body.accountId = current.accountId;
    return body;
  }

  /**
   * A pending session past its expiry instant becomes `expired` now, and its streams (on any replica) get
   * `pairing_expired {"reason":"expired"}`. Returns the session as it stands afterwards.
   */
  async applyExpiry(session: SessionEntity): Promise<SessionEntity> {
    if (session.status !== 'pending_pairing' || session.expiresAt.getTime() > Date.now()) return session;
    if (await this.sessions.expireIfDue(session.id)) {
      await this.events.toSessionsBestEffort([session.id], {
        kind: 'pairing_expired',
        data: { reason: 'expired' },
      });
      return { ...session, status: 'expired' };
    }
    return (await this.sessions.findById(session.id)) ?? { ...session, status: 'expired' };
  }

  /**
   * `/pair CODE` in one transaction: the live pending session holding the code is locked, an account is
   * created (or the session's pre-bound account used), the conversation is paired to it and the session
   * becomes `paired`. Concurrent attempts with one code queue on the row lock; only the first finds it pending.
   */
  async pair(code: string, identity: ConversationIdentity): Promise<PairOutcome> {
    const outcome = await this.dataSource.transaction(async (manager) => {
      const session = await this.sessions.lockLivePendingByCode(manager, code);
      if (!session) return { ok: false as const, reason: 'invalid_code' as const };
      const accountId = session.accountId ?? (await this.accounts.createInTransaction(manager)).id;
      // If this conversation was paired to another account, that account may be left without any.
      const previous = await this.conversations.lockByKey(manager, identity.conversationKey);
      await this.conversations.upsertPaired(manager, identity, accountId);
      const pairedAt = await this.sessions.markPaired(manager, session.id, {
        accountId,
        kakaoUserId: identity.userId,
        conversationKey: identity.conversationKey,
      });
      let displacedSessions: string[] = [];
      if (previous?.state === 'paired' && previous.accountId && previous.accountId !== accountId) {
        if ((await this.conversations.countPairedForAccount(manager, previous.accountId)) === 0) {
          displacedSessions = await this.sessions.disconnectPairedForAccount(manager, previous.accountId);
        }
      }
      return { ok: true as const, accountId, sessionId: session.id, pairedAt, displacedSessions };
    });
    if (outcome.ok) {
      await this.events.toSessionsBestEffort([outcome.sessionId], {
        kind: 'pairing_complete',
        data: {
          kakaoUserId: identity.userId,
          pairedAt: outcome.pairedAt.toISOString(),
          accountId: outcome.accountId,
          conversationKey: identity.conversationKey,
        },
      });
      await this.events.toSessionsBestEffort(outcome.displacedSessions, {
        kind: 'pairing_expired',
        data: { reason: 'unpaired' },
      });
      this.logger.log(`conversation paired to account ${outcome.accountId}`);
    }
    return outcome;
  }

  /** The operator ends a session: its streams get `pairing_expired {"reason":"disconnected"}` and its token 401. */
  async disconnectSession(sessionId: string, remove: boolean): Promise<boolean> {
    const live = await this.sessions.disconnect(sessionId);
    const existed = remove
      ? await this.sessions.deleteById(sessionId)
      : live || !!(await this.sessions.findById(sessionId));
    if (live || (remove && existed)) {
      await this.events.toSessionsBestEffort([sessionId], {
        kind: 'pairing_expired',
        data: { reason: 'disconnected' },
      });
    }
    return existed;
  }

  /**
   * The operator deletes a conversation: like `/unpair`, an account left without a paired conversation has its
   * sessions disconnected.
   */
  async deleteConversation(conversationId: string): Promise<boolean> {
    const outcome = await this.dataSource.transaction(async (manager) => {
      const conversation = await this.conversations.findById(conversationId);
      if (!conversation) return null;
      await this.conversations.deleteById(manager, conversationId);
      let disconnected: string[] = [];
      if (conversation.state === 'paired' && conversation.accountId) {
        if ((await this.conversations.countPairedForAccount(manager, conversation.accountId)) === 0) {
          disconnected = await this.sessions.disconnectPairedForAccount(manager, conversation.accountId);
        }
      }
      return disconnected;
    });
    if (outcome === null) return false;
    await this.events.toSessionsBestEffort(outcome, {
      kind: 'pairing_expired',
      data: { reason: 'unpaired' },
    });
    return true;
  }

  /**
   * `/unpair`: the conversation becomes unpaired; when its account has no paired conversation left, the
   * account's paired sessions are disconnected and their streams told `pairing_expired {"reason":"unpaired"}`.
   */
  async unpair(identity: ConversationIdentity): Promise<UnpairOutcome> {
    const outcome = await this.dataSource.transaction(async (manager) => {
      const conversation = await this.conversations.lockByKey(manager, identity.conversationKey);
      if (!conversation || conversation.state !== 'paired' || !conversation.accountId) {
        return { ok: false as const, reason: 'not_paired' as const };
      }
      await this.conversations.markUnpaired(manager, identity.conversationKey);
      let disconnectedSessions: string[] = [];
      if ((await this.conversations.countPairedForAccount(manager, conversation.accountId)) === 0) {
        disconnectedSessions = await this.sessions.disconnectPairedForAccount(
          manager,
          conversation.accountId,
        );
      }
      return { ok: true as const, disconnectedSessions };
    });
    if (outcome.ok) {
      await this.events.toSessionsBestEffort(outcome.disconnectedSessions, {
        kind: 'pairing_expired',
        data: { reason: 'unpaired' },
      });
    }
    return outcome;
  }
}
