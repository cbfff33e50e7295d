import type {
  InsertOutcome,
  NewInboundMessage,
  ReplayPageSize,
  ReplayRange,
  ReplayStart,
  StoredMessage,
} from '../domain/inbound-message';

/** The inbound messages: storing them in sequence per account, and reading them back for agent streams. */
export abstract class InboundMessageStore {
  /**
   * Stores a message of a paired conversation with the account's next sequence number (a repeat of the same
   * request is a duplicate; an unpaired conversation stores nothing). Throws `OverloadedError` when too many
   * messages already wait to be stored.
   */
  abstract insertQueued(input: NewInboundMessage): Promise<InsertOutcome>;
  /** Where a new stream's replay starts (null when the account does not exist). */
  abstract replayStart(accountId: string, lastEventId: number | null): Promise<ReplayStart | null>;
  /** One bounded page of owed messages younger than `ttlSeconds`, oldest first. */
  abstract replayPage(
    accountId: string,
    range: ReplayRange,
    ttlSeconds: number,
    page: ReplayPageSize,
  ): Promise<StoredMessage[]>;
  /** Messages with fromSeq < seq <= toSeq (a gap a stream noticed), oldest first. */
  abstract findSeqRange(
    accountId: string,
    fromSeqExclusive: number,
    toSeqInclusive: number,
  ): Promise<StoredMessage[]>;
  /** Per account, the highest sequence number streams wrote; marks only move forward. */
  abstract markDelivered(marks: ReadonlyMap<string, number>): Promise<number>;
}
