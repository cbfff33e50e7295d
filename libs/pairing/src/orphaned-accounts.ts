import { Injectable } from '@nestjs/common';
import { PairingStore, PairingTransaction } from '@app/core';
import { StreamEventPublisher } from '@app/messaging';

/** What a pairing transaction's work answers: its result, and the account a conversation just left (if any). */
export interface ConversationMove<T> {
  value: T;
  /** The account a conversation stopped being paired to in this transaction, or null. */
  leftAccount: string | null;
}

export interface Released<T> {
  value: T;
  /** Sessions disconnected because their account was left without a paired conversation. */
  disconnected: string[];
  /** The account those sessions belonged to (its push endpoint hears of it), or null. */
  account: string | null;
}

/**
 * The one place of the rule "a conversation left its account (`/unpair`, re-paired to another agent, deleted by
 * the operator) → if the account has no paired conversation left, its paired sessions are disconnected (in the
 * same transaction) and their streams get `pairing_expired {"reason":"unpaired"}` (after commit)".
 */
@Injectable()
export class OrphanedAccounts {
  constructor(
    private readonly store: PairingStore,
    private readonly events: StreamEventPublisher,
  ) {}

  /** Runs `work` in one pairing transaction and releases the account it left, if that left it orphaned. */
  async transaction<T>(work: (tx: PairingTransaction) => Promise<ConversationMove<T>>): Promise<Released<T>> {
    const released = await this.store.transaction(async (tx) => {
      const { value, leftAccount } = await work(tx);
      const orphaned = leftAccount !== null && (await tx.countPairedConversations(leftAccount)) === 0;
      return {
        value,
        disconnected: orphaned ? await tx.disconnectPairedSessions(leftAccount) : [],
        account: orphaned ? leftAccount : null,
      };
    });
    await this.events.toSessionsBestEffort(
      released.disconnected,
      { kind: 'pairing_expired', data: { reason: 'unpaired' } },
      released.account,
    );
    return released;
  }
}
