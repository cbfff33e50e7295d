import { Inject, Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { RELAY_CONFIG, RelayConfig } from '@app/config';
import { SettingsStore } from '@app/core';

/** The `relay_settings` row of the generated key. */
export const JWT_KEY_SETTING = 'jwt_hs256_key';

/**
 * The HS256 key of the API-key tokens: `JWT_SECRET`, or else a random 48-byte key made by the first replica that
 * needs it and kept in the database, so every replica signs and verifies with the same key without set-up.
 * Read lazily (the relay starts while PostgreSQL is away) and then kept in memory; a failed read is tried again
 * on the next use.
 */
@Injectable()
export class JwtSigningKey {
  private key: Promise<string> | null = null;

  constructor(
    @Inject(RELAY_CONFIG) private readonly config: RelayConfig,
    private readonly settings: SettingsStore,
  ) {}

  get(): Promise<string> {
    if (this.config.jwtSecret) return Promise.resolve(this.config.jwtSecret);
    this.key ??= this.settings
      .getOrCreate(JWT_KEY_SETTING, randomBytes(48).toString('base64url'))
      .catch((e: unknown) => {
        this.key = null;
        throw e;
      });
    return this.key;
  }
}
