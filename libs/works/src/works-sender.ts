import { Injectable } from '@nestjs/common';
import { WorksSend, WorksSendStore, WorksTarget } from '@app/core';
import type { WorksContent } from './works-content';
import { WorksSendQueue } from './works-send.queue';

export interface WorksSendContext {
  /** The account whose streams hear of a failure; null for a conversation not paired to any. */
  accountId: string | null;
  /** The inbound message this answers, if any (named in the failure's `error` event). */
  messageId?: string | null;
}

/**
 * What the channel's callers use to send Works messages (the inbound adapter's pairing hint and command answers,
 * the reply path): stores the messages, in order, as the next of their conversation, and queues one send job
 * each. Returns once they are durably stored and queued; the outcome is recorded in `works_sends`.
 */
@Injectable()
export class WorksSender {
  constructor(
    private readonly store: WorksSendStore,
    private readonly queue: WorksSendQueue,
  ) {}

  async send(target: WorksTarget, contents: WorksContent[], context: WorksSendContext): Promise<WorksSend[]> {
    if (contents.length === 0) return [];
    const sends = await this.store.enqueue({
      accountId: context.accountId,
      inboundMessageId: context.messageId ?? null,
      target,
      contents: contents as Record<string, unknown>[],
    });
    await this.queue.add(sends.map((s) => s.id));
    return sends;
  }
}
