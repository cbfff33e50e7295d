import { Injectable, Logger } from '@nestjs/common';
import { AccountEventTaps } from './account-event-taps';
import { ChannelEnvelope, channelNames } from './channels';
import { PubSubService } from './pubsub.service';

/** Publishes agent-stream events to whichever replicas hold the streams of an account or a session. */
@Injectable()
export class StreamEventPublisher {
  private readonly logger = new Logger(StreamEventPublisher.name);

  constructor(
    private readonly pubsub: PubSubService,
    private readonly taps: AccountEventTaps,
  ) {}

  /**
   * Rejects when Redis is unreachable (callers that must not lose the event retry through a queue). The account's
   * taps (push delivery) hear of the event whether or not Redis took it: a message event is stored already. The
   * queue's retry of a refused publish passes `taps: false` — the taps heard of it the first time.
   */
  toAccount(accountId: string, envelope: ChannelEnvelope, options: { taps?: boolean } = {}): Promise<number> {
    if (options.taps !== false && !('scope' in envelope)) this.taps.emit(accountId, envelope);
    return this.pubsub.publish(
      this.pubsub.channel(...channelNames.account(accountId)),
      JSON.stringify(envelope),
    );
  }

  toSession(sessionId: string, envelope: ChannelEnvelope): Promise<number> {
    return this.pubsub.publish(
      this.pubsub.channel(...channelNames.session(sessionId)),
      JSON.stringify(envelope),
    );
  }

  /**
   * Best effort for lifecycle events (pairing complete/expired): the state is already committed in
   * PostgreSQL, and streams re-check it, so a lost publish only delays what the agent learns.
   */
  async toSessionsBestEffort(
    sessionIds: string[],
    envelope: ChannelEnvelope,
    accountId?: string | null,
  ): Promise<void> {
    // The sessions' account (when they have one) hears of it once, whatever the number of sessions.
    if (accountId && sessionIds.length > 0) this.taps.emit(accountId, envelope);
    await Promise.all(
      sessionIds.map((id) =>
        this.toSession(id, envelope).catch((e: Error) =>
          this.logger.warn(`could not publish ${envelope.kind} to session ${id}: ${e.message}`),
        ),
      ),
    );
  }
}
