import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import { SessionEntity } from '../entities';

export interface NewPendingSession {
  tokenHash: string;
  pairingCode: string;
  expiresAt: Date;
  accountId?: string | null;
}

export interface PairedSessionUpdate {
  accountId: string;
  kakaoUserId: string;
  conversationKey: string;
}

export interface SessionState {
  status: SessionEntity['status'];
  expiresAt: Date;
  accountId: string | null;
  kakaoUserId: string | null;
  conversationKey: string | null;
  pairedAt: Date | null;
}

@Injectable()
export class SessionsRepository {
  constructor(@InjectRepository(SessionEntity) private readonly repo: Repository<SessionEntity>) {}

  /** Inserts a pending session; throws the unique violation (23505) when the code is already live. */
  createPending(input: NewPendingSession): Promise<SessionEntity> {
    return this.repo.save(
      this.repo.create({
        tokenHash: input.tokenHash,
        pairingCode: input.pairingCode,
        expiresAt: input.expiresAt,
        accountId: input.accountId ?? null,
        status: 'pending_pairing',
      }),
    );
  }

  findByTokenHash(tokenHash: string): Promise<SessionEntity | null> {
    return this.repo.findOne({ where: { tokenHash } });
  }

  findById(id: string): Promise<SessionEntity | null> {
    return this.repo.findOne({ where: { id } });
  }

  /** The current state of several sessions at once (open streams re-check their credential); absent = deleted. */
  async findStates(ids: readonly string[]): Promise<Map<string, SessionState>> {
    if (ids.length === 0) return new Map();
    const rows: Array<{
      id: string;
      status: SessionEntity['status'];
      expires_at: Date;
      account_id: string | null;
      kakao_user_id: string | null;
      conversation_key: string | null;
      paired_at: Date | null;
    }> = await this.repo.query(
      `SELECT id, status, expires_at, account_id, kakao_user_id, conversation_key, paired_at
         FROM sessions WHERE id = ANY($1::uuid[])`,
      [ids],
    );
    return new Map(
      rows.map((r) => [
        r.id,
        {
          status: r.status,
          expiresAt: r.expires_at,
          accountId: r.account_id,
          kakaoUserId: r.kakao_user_id,
          conversationKey: r.conversation_key,
          pairedAt: r.paired_at,
        },
      ]),
    );
  }

  /**
   * Locks the live pending session holding this code. Concurrent callers wait on the row lock and, once
   * the winner committed, see it no longer pending: exactly one conversation can win a code.
   */
  lockLivePendingByCode(manager: EntityManager, pairingCode: string): Promise<SessionEntity | null> {
    return manager
      .getRepository(SessionEntity)
      .createQueryBuilder('s')
      .setLock('pessimistic_write')
      .where('s.pairing_code = :pairingCode', { pairingCode })
      .andWhere("s.status = 'pending_pairing'")
      .andWhere('s.expires_at > now()')
      .getOne();
  }

  async markPaired(manager: EntityManager, id: string, update: PairedSessionUpdate): Promise<Date> {
    // For UPDATE … RETURNING, TypeORM's postgres driver answers [rows, affectedCount].
    const [rows]: [Array<{ paired_at: Date }>, number] = await manager.query(
      `UPDATE sessions
          SET status = 'paired', account_id = $2, kakao_user_id = $3, conversation_key = $4,
              paired_at = now(), updated_at = now()
        WHERE id = $1
        RETURNING paired_at`,
      [id, update.accountId, update.kakaoUserId, update.conversationKey],
    );
    return rows[0].paired_at;
  }

  /** Expires a pending session whose expiry instant has passed; returns true if this call expired it. */
  async expireIfDue(id: string): Promise<boolean> {
    const result = await this.repo
      .createQueryBuilder()
      .update(SessionEntity)
      .set({ status: 'expired', endedAt: () => 'now()' })
      .where('id = :id', { id })
      .andWhere("status = 'pending_pairing'")
      .andWhere('expires_at <= now()')
      .execute();
    return (result.affected ?? 0) > 0;
  }

  /** Ends a live (pending or paired) session by the operator's hand; true if it was live. */
  async disconnect(id: string): Promise<boolean> {
    const result = await this.repo
      .createQueryBuilder()
      .update(SessionEntity)
      .set({ status: 'disconnected', endedAt: () => 'now()' })
      .where('id = :id', { id })
      .andWhere("status IN ('pending_pairing', 'paired')")
      .execute();
    return (result.affected ?? 0) > 0;
  }

  async deleteById(id: string): Promise<boolean> {
    const result = await this.repo.delete({ id });
    return (result.affected ?? 0) > 0;
  }

  /** Disconnects every paired session of an account; returns the ids that changed. */
  async disconnectPairedForAccount(manager: EntityManager, accountId: string): Promise<string[]> {
    const [rows]: [Array<{ id: string }>, number] = await manager.query(
      `UPDATE sessions SET status = 'disconnected', ended_at = now(), updated_at = now()
        WHERE account_id = $1 AND status = 'paired'
        RETURNING id`,
      [accountId],
    );
    return rows.map((r) => r.id);
  }
}
