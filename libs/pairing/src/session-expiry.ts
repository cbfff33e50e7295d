import { Injectable } from '@nestjs/common';
import { Clock, Session, SessionStore } from '@app/core';
import { StreamEventPublisher } from '@app/messaging';

/**
 * The one owner of session expiry: a pending session whose expiry instant has come (at the instant, not after)
 * stops authenticating, becomes `expired`, and its open streams (on any replica) get
 * `pairing_expired {"reason":"expired"}`. Every caller goes through here: session status, agent auth, `/pair`,
 * the stream hub (its per-stream timer and heartbeat re-check) and the cleanup job's sweep.
 */
@Injectable()
export class SessionExpiry {
  constructor(
    private readonly sessions: SessionStore,
    private readonly events: StreamEventPublisher,
    private readonly clock: Clock,
  ) {}

  /** The rule itself: pending, and its expiry instant is now or past. Pure: changes nothing. */
  hasLapsed(session: Pick<Session, 'status' | 'expiresAt'>, now: number = this.clock.now()): boolean {
    return session.status === 'pending_pairing' && session.expiresAt.getTime() <= now;
  }

  /**
   * The session as it stands now. A lapsed pending session is expired here (by whichever caller gets there
   * first, once) and its streams are told; the others read what it became.
   */
  async apply(session: Session): Promise<Session> {
    const now = this.clock.now();
    if (!this.hasLapsed(session, now)) return session;
    if (await this.sessions.expireIfLapsed(session.id, new Date(now))) {
      await this.tellExpired([session.id]);
      return { ...session, status: 'expired' };
    }
    // Someone else expired it first, or it was paired or disconnected just before: read where it stands.
    return (await this.sessions.findById(session.id)) ?? { ...session, status: 'expired' };
  }

  /**
   * Whether a session's credential is over (a stream's expiry timer asks): gone, disconnected, or expired —
   * expiring it now if it is due.
   */
  async hasEnded(sessionId: string): Promise<boolean> {
    const session = await this.sessions.findById(sessionId);
    if (!session) return true;
    const current = await this.apply(session);
    return current.status === 'expired' || current.status === 'disconnected';
  }

  /**
   * The cleanup job's sweep (the safety net: expiry already takes effect on every use): expires at most `limit`
   * lapsed pending sessions and tells their streams. Returns how many it expired.
   */
  async expireLapsed(limit: number): Promise<number> {
    const ids = await this.sessions.expireLapsed(this.clock.date(), limit);
    await this.tellExpired(ids);
    return ids.length;
  }

  private tellExpired(sessionIds: string[]): Promise<void> {
    return this.events.toSessionsBestEffort(sessionIds, {
      kind: 'pairing_expired',
      data: { reason: 'expired' },
    });
  }
}
