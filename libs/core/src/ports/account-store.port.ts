import type { Account } from '../domain/account';

/** The agents' accounts. An account is created only inside a pairing transaction (`PairingStore`). */
export abstract class AccountStore {
  abstract findById(id: string): Promise<Account | null>;

  abstract findByRelayTokenHash(relayTokenHash: string): Promise<Account | null>;

  /** The relay-token hashes of several accounts in one round trip; an id without an entry: the account is gone. */
  abstract findRelayTokenHashes(ids: readonly string[]): Promise<Map<string, string | null>>;

  /** Replaces the account's relay token; false if the account does not exist. */
  abstract setRelayTokenHash(id: string, relayTokenHash: string): Promise<boolean>;

  /**
   * Deletes an account with everything it owns (sessions, messages, replies); its conversations are unpaired
   * first, so the Kakao users get the pairing hint again. Returns the ids of the sessions it had.
   */
  abstract deleteWithSessions(id: string): Promise<{ deleted: boolean; sessionIds: string[] }>;
}
