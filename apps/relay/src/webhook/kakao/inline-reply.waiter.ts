import { Injectable } from '@nestjs/common';
import { SkillResponse } from '@app/core';
import { channelNames, PubSubService } from '@app/messaging';

export interface InlineWait {
  /** Resolves with the merged reply, or null when none came before the timeout. */
  result: Promise<SkillResponse | null>;
  cancel(): void;
}

/**
 * Inline mode (a webhook without callbackUrl): the webhook holds Kakao's request while the agent answers. The
 * reply may reach any replica; the send job publishes the merged SkillResponse on the message's channel.
 * Subscribe before the message is handed to the agent, so a fast reply is never missed.
 */
@Injectable()
export class InlineReplyWaiter {
  constructor(private readonly pubsub: PubSubService) {}

  async begin(messageId: string, timeoutMs: number): Promise<InlineWait> {
    const wait = await this.pubsub.waitForOne(
      this.pubsub.channel(...channelNames.inlineReply(messageId)),
      timeoutMs,
    );
    const result = wait.result.then((message) => {
      if (message === null) return null;
      try {
        return JSON.parse(message) as SkillResponse;
      } catch {
        return null;
      }
    });
    return { result, cancel: wait.cancel };
  }
}
