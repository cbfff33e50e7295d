import { WorksBotCredentials, WorksBotStore } from '@app/core';

/** `WorksBotStore` in memory: the bots a test registers. */
export class InMemoryWorksBotStore extends WorksBotStore {
  private readonly bots = new Map<string, WorksBotCredentials>();

  constructor(bots: WorksBotCredentials[] = []) {
    super();
    for (const bot of bots) this.add(bot);
  }

  add(bot: WorksBotCredentials): void {
    this.bots.set(bot.botId, bot);
  }

  findByBotId(botId: string): Promise<WorksBotCredentials | null> {
    return Promise.resolve(this.bots.get(botId) ?? null);
  }
}
