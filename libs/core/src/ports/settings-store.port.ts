/**
 * Relay-wide values made on first start and shared by every replica without set-up (the JWT signing key when
 * `JWT_SECRET` is not set).
 */
export abstract class SettingsStore {
  /**
   * The stored value of `name`; when there is none, stores `candidate` — unless another replica stored one first
   * (INSERT … ON CONFLICT DO NOTHING, then read) — and returns the winner.
   */
  abstract getOrCreate(name: string, candidate: string): Promise<string>;
}
