import { Injectable, Logger } from '@nestjs/common';
import type { ChannelEnvelope } from './channels';

/** An account's event as a tap sees it: published to its streams (or to the streams of one of its sessions). */
export type AccountEventTap = (accountId: string, envelope: ChannelEnvelope) => void;

/**
 * Listeners told of every event the relay publishes for an account (push delivery, server-mode §2, is one): a
 * feature that wants the agent-stream events registers here instead of every publisher learning of it. A tap is
 * called synchronously after the publish was handed to Redis and must not throw or block (it queues its own
 * work); nothing registered, nothing happens.
 */
@Injectable()
export class AccountEventTaps {
  private readonly logger = new Logger(AccountEventTaps.name);
  private readonly taps = new Set<AccountEventTap>();

  register(tap: AccountEventTap): () => void {
    this.taps.add(tap);
    return () => this.taps.delete(tap);
  }

  emit(accountId: string, envelope: ChannelEnvelope): void {
    for (const tap of this.taps) {
      try {
        tap(accountId, envelope);
      } catch (e) {
        this.logger.warn(`an account event tap failed: ${(e as Error).message}`);
      }
    }
  }
}
