import { Injectable, Logger } from '@nestjs/common';
import { ConversationIdentity, Session } from '@app/core';
import { StreamEventPublisher } from '@app/messaging';
import { OrphanedAccounts } from './orphaned-accounts';
import { SessionExpiry } from './session-expiry';

export type PairOutcome =
  | { ok: true; accountId: string; sessionId: string; pairedAt: Date; displacedSessions: string[] }
  | { ok: false; reason: 'invalid_code' };

export type UnpairOutcome =
  { ok: true; disconnectedSessions: string[] } | { ok: false; reason: 'not_paired' };

type PairStep =
  | { kind: 'paired'; accountId: string; sessionId: string; pairedAt: Date }
  | { kind: 'no_code' }
  | { kind: 'lapsed'; session: Session };

/** The Kakao user's side of pairing: `/pair CODE` and `/unpair`, each one transaction. */
@Injectable()
export class PairingService {
  private readonly logger = new Logger(PairingService.name);

  constructor(
    private readonly orphans: OrphanedAccounts,
    private readonly expiry: SessionExpiry,
    private readonly events: StreamEventPublisher,
  ) {}

  /**
   * `/pair CODE` in one transaction: the pending session holding the code is locked and, unless it has lapsed,
   * an account is created (or the session's pre-bound account used), the conversation is paired to it and the
   * session becomes `paired`. Concurrent attempts with one code queue on the lock; only the first finds it
   * pending. A conversation that was paired to another account leaves it (`OrphanedAccounts`).
   */
  async pair(code: string, identity: ConversationIdentity): Promise<PairOutcome> {
    const { value: step, disconnected } = await this.orphans.transaction<PairStep>(async (tx) => {
      const session = await tx.lockPendingSessionByCode(code);
      if (!session) return { value: { kind: 'no_code' }, leftAccount: null };
      if (this.expiry.hasLapsed(session)) return { value: { kind: 'lapsed', session }, leftAccount: null };
      const accountId = session.accountId ?? (await tx.createAccount());
      const previous = await tx.lockConversationByKey(identity.conversationKey);
      await tx.pairConversation(identity, accountId);
      const pairedAt = await tx.markSessionPaired(session.id, {
        accountId,
        kakaoUserId: identity.userId,
        conversationKey: identity.conversationKey,
      });
      const left =
        previous?.state === 'paired' && previous.accountId && previous.accountId !== accountId
          ? previous.accountId
          : null;
      return { value: { kind: 'paired', accountId, sessionId: session.id, pairedAt }, leftAccount: left };
    });
    if (step.kind === 'lapsed') await this.expiry.apply(step.session);
    if (step.kind !== 'paired') return { ok: false, reason: 'invalid_code' };
    await this.events.toSessionsBestEffort(
      [step.sessionId],
      {
        kind: 'pairing_complete',
        data: {
          kakaoUserId: identity.userId,
          pairedAt: step.pairedAt.toISOString(),
          accountId: step.accountId,
          conversationKey: identity.conversationKey,
        },
      },
      step.accountId,
    );
    this.logger.log(`conversation paired to account ${step.accountId}`);
    return {
      ok: true,
      accountId: step.accountId,
      sessionId: step.sessionId,
      pairedAt: step.pairedAt,
      displacedSessions: disconnected,
    };
  }

  /**
   * A message of a bound bot (server-mode.md §3) whose conversation is not paired to the bound account: the
   * conversation is created, or re-pointed, paired to it, in one transaction. A conversation that was paired to
   * another account (by `/pair` before the bot was bound) leaves it (`OrphanedAccounts`): the binding wins.
   * Idempotent, so two first messages of one user racing each other both end with the same conversation (the
   * conversation's row lock, or the insert's conflict, orders them). No session is involved: nothing is published
   * but what `OrphanedAccounts` tells an account left behind.
   */
  async bindConversation(identity: ConversationIdentity, accountId: string): Promise<void> {
    await this.orphans.transaction(async (tx) => {
      const previous = await tx.lockConversationByKey(identity.conversationKey);
      const pairedTo = previous?.state === 'paired' ? previous.accountId : null;
      if (pairedTo === accountId) return { value: undefined, leftAccount: null };
      await tx.pairConversation(identity, accountId);
      return { value: undefined, leftAccount: pairedTo };
    });
    this.logger.log(`conversation of a bound bot paired to account ${accountId}`);
  }

  /**
   * `/unpair`: the conversation becomes unpaired and leaves its account (`OrphanedAccounts`: an account left
   * without a paired conversation has its sessions disconnected and their streams told).
   */
  async unpair(identity: ConversationIdentity): Promise<UnpairOutcome> {
    const { value: unpaired, disconnected } = await this.orphans.transaction(async (tx) => {
      const conversation = await tx.lockConversationByKey(identity.conversationKey);
      if (conversation?.state !== 'paired' || !conversation.accountId)
        return { value: false, leftAccount: null };
      await tx.unpairConversation(identity.conversationKey);
      return { value: true, leftAccount: conversation.accountId };
    });
    return unpaired ? { ok: true, disconnectedSessions: disconnected } : { ok: false, reason: 'not_paired' };
  }
}
