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

  findByRelayTokenHash(relayTokenHash: string): Promise<AccountEntity | null> {
    return this.repo.findOne({ where: { relayTokenHash } });
  }

  async setRelayTokenHash(id: string, relayTokenHash: string): Promise<boolean> {
    const result = await this.repo.update({ id }, { relayTokenHash });
    return (result.affected ?? 0) > 0;
  }
}
