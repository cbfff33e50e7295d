import { Inject, Injectable } from '@nestjs/common';
import { RELAY_CONFIG, RelayConfig } from '@app/config';
import { ConflictError, NotFoundError, WorksBotChanges, WorksBotRegistry, WorksBotSummary } from '@app/core';
import { toJson } from '../page-cursor';
import { CreateWorksBotDto, WorksBotDto } from './works-bot.dto';

const notFound = () => new NotFoundError('WORKS_BOT_NOT_FOUND', 'No Works bot is registered with this id.');

function dto(bot: WorksBotSummary | null): WorksBotDto {
  if (!bot) throw notFound();
  return toJson(bot);
}

/** The admin side of the Works bots: the registry's answers as the API's (404, 409), secrets never among them. */
@Injectable()
export class WorksBotsAdmin {
  constructor(
    private readonly registry: WorksBotRegistry,
    @Inject(RELAY_CONFIG) private readonly config: RelayConfig,
  ) {}

  async create(body: CreateWorksBotDto): Promise<WorksBotDto> {
    if (this.config.worksBot?.botId === body.botId) {
      throw new ConflictError(
        'WORKS_BOT_FROM_ENVIRONMENT',
        'This bot is configured by the WORKS_* variables; it cannot be registered as well.',
      );
    }
    const created = await this.registry.create({
      botId: body.botId,
      name: body.name ?? null,
      botSecret: body.botSecret,
      clientId: body.clientId,
      clientSecret: body.clientSecret,
      serviceAccount: body.serviceAccount,
      privateKey: body.privateKey,
    });
    if (!created)
      throw new ConflictError('WORKS_BOT_EXISTS', 'A Works bot with this id is registered already.');
    return toJson(created);
  }

  async get(botId: string): Promise<WorksBotDto> {
    return dto(await this.registry.get(botId));
  }

  async update(botId: string, changes: WorksBotChanges): Promise<WorksBotDto> {
    return dto(await this.registry.update(botId, changes));
  }

  async delete(botId: string): Promise<void> {
    if (!(await this.registry.delete(botId))) throw notFound();
  }
}
