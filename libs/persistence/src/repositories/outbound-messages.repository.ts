import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { OutboundMessageEntity } from '../entities';

@Injectable()
export class OutboundMessagesRepository {
  constructor(
    @InjectRepository(OutboundMessageEntity) private readonly repo: Repository<OutboundMessageEntity>,
  ) {}

  findByInboundMessageId(inboundMessageId: string): Promise<OutboundMessageEntity | null> {
    return this.repo.findOne({ where: { inboundMessageId } });
  }
}
