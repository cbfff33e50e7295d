import { Injectable } from '@nestjs/common';
import { SessionStore } from '@app/core';
import { StreamEventPublisher } from '@app/messaging';
import { OrphanedAccounts } from './orphaned-accounts';
import { OpenedSession, SessionService } from './session.service';

/** The operator's changes to sessions and conversations (admin API), each telling the streams concerned. */
@Injectable()
export class PairingAdmin {
  constructor(
    private readonly sessions: SessionStore,
    private readonly sessionService: SessionService,
    private readonly orphans: OrphanedAccounts,
    private readonly events: StreamEventPublisher,
  ) {}

  /** A new pending session, optionally for an existing account (a second Kakao user for one agent). */
  openSession(accountId: string | null): Promise<OpenedSession> {
    return this.sessionService.open(accountId);
  }

  /** Ends a session: its streams get `pairing_expired {"reason":"disconnected"}`, its token 401. False: no such session. */
  async disconnectSession(sessionId: string): Promise<boolean> {
    const session = await this.sessions.findById(sessionId);
    const wasLive = await this.sessions.disconnect(sessionId);
    if (wasLive) await this.tellDisconnected(sessionId, session?.accountId ?? null);
    return wasLive || session !== null;
  }

  /** Ends and deletes a session (its streams are told as for a disconnect). False: no such session. */
  async deleteSession(sessionId: string): Promise<boolean> {
    const session = await this.sessions.findById(sessionId);
    const wasLive = await this.sessions.disconnect(sessionId);
    const existed = await this.sessions.deleteById(sessionId);
    if (wasLive || existed) await this.tellDisconnected(sessionId, session?.accountId ?? null);
    return existed;
  }

  /**
   * Deletes a conversation; like `/unpair`, it leaves its account (`OrphanedAccounts`). False: no such
   * conversation.
   */
  async deleteConversation(conversationId: string): Promise<boolean> {
    const { value: deleted } = await this.orphans.transaction(async (tx) => {
      const conversation = await tx.lockConversationById(conversationId);
      if (!conversation) return { value: false, leftAccount: null };
      await tx.deleteConversation(conversationId);
      return { value: true, leftAccount: conversation.state === 'paired' ? conversation.accountId : null };
    });
    return deleted;
  }

  private tellDisconnected(sessionId: string, accountId: string | null): Promise<void> {
    return this.events.toSessionsBestEffort(
      [sessionId],
      { kind: 'pairing_expired', data: { reason: 'disconnected' } },
      accountId,
    );
  }
}
