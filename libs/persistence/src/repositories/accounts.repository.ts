import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import { AccountEntity } from '../entities';

@Injectable()
export class AccountsRepository {
  constructor(@InjectRepository(AccountEntity) private readonly repo: Repository<AccountEntity>) {}

  createInTransaction(manager: EntityManager): Promise<AccountEntity> {
    return manager.getRepository(AccountEntity).save(manager.getRepository(AccountEntity).create({}));
  }

  findById(id: string): Promise<AccountEntity | null> {
    return this.repo.findOne({ where: { id } });
  }

  /** The relay-token hashes of several accounts (absent: the account is gone). */
  async findRelayTokenHashes(ids: readonly string[]): Promise<Map<string, string | null>> {
    if (ids.length === 0) return new Map();
    const rows: Array<{ id: string; relay_token_hash: string | null }> = await this.repo.query(
      `SELECT id, relay_token_hash FROM accounts WHERE id = ANY($1::uuid[])`,
      [ids],
    );
    return new Map(rows.map((r) => [r.id, r.relay_token_hash]));
  }

  findByRelayTokenHash(relayTokenHash: string): Promise<AccountEntity | null> {
    return this.repo.findOne({ where: { relayTokenHash } });
  }

  /**
   * Deletes an account with everything it owns (sessions, messages, replies cascade); its conversations are
   * unpaired first so the Kakao users get the pairing hint again. Returns the ids of the sessions it had.
   */
  async deleteWithSessions(id: string): Promise<{ deleted: boolean; sessionIds: string[] }> {
    return this.repo.manager.transaction(async (manager) => {
      const sessions = (await manager.query(`SELECT id FROM sessions WHERE account_id = $1`, [id])) as Array<{
        id: string;
      }>;
      await manager.query(
        `UPDATE conversations SET state = 'unpaired', unpaired_at = now(), account_id = NULL, updated_at = now()
          WHERE account_id = $1`,
        [id],
      );
      const [, affected] = (await manager.query(`DELETE FROM accounts WHERE id = $1`, [id])) as [
        unknown,
        number,
      ];
      return { deleted: affected > 0, sessionIds: sessions.map((s) => s.id) };
    });
  }

  async setRelayTokenHash(id: string, relayTokenHash: string): Promise<boolean> {
    const result = await this.repo.update({ id }, { relayTokenHash });
    return (result.affected ?? 0) > 0;
  }
}
