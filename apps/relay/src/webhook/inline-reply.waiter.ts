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
 * reply may reach any replica; whoever sends it publishes the merged SkillResponse on the message's channel.
 * Subscribe before the message is handed to the agent, so a fast reply is never missed.
 */
@Injectable()
export class InlineReplyWaiter {
  constructor(private readonly pubsub: PubSubService) {}

  async begin(messageId: string, timeoutMs: number): Promise<InlineWait> {
    let settle: (value: SkillResponse | null) => void = () => undefined;
    const result = new Promise<SkillResponse | null>((resolve) => (settle = resolve));
    let done = false;
    let unsubscribe: (() => void) | null = null;
    const finish = (value: SkillResponse | null) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      unsubscribe?.();
      settle(value);
    };
    const timer = setTimeout(() => finish(null), timeoutMs);
    const remove = await this.pubsub.subscribe(
      this.pubsub.channel(...channelNames.inlineReply(messageId)),
      (message) => {
        try {
          finish(JSON.parse(message) as SkillResponse);
        } catch {
          finish(null);
        }
      },
    );
    if (done) remove();
    else unsubscribe = remove;
    return { result, cancel: () => finish(null) };
  }
}
