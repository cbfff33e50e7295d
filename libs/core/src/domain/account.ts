/** An agent's identity on the relay: created when a Kakao user first pairs with a pairing session. */
export interface Account {
  id: string;
  /** SHA-256 of the account relay token minted from the admin API, if any. */
  relayTokenHash: string | null;
  createdAt: Date;
}
