import { Injectable, Logger } from '@nestjs/common';
import {
  API_KEY_PATTERN,
  ApiKeyCredential,
  ApiKeyStore,
  constantTimeEquals,
  hashToken,
  RateLimitedError,
  SECRET_KEY_PATTERN,
  UnauthorizedError,
} from '@app/core';
import { RateLimiter } from '@app/messaging';
import { ApiKeyUsage } from './api-key-usage';

/** Wrong key pairs allowed per API key per window; past it the key is refused (429) until the window ends. */
export const API_KEY_FAILURES_PER_KEY = 10;
/** Wrong key pairs allowed per client address per window; past it wrong pairs are answered 429, not 401. */
export const API_KEY_FAILURES_PER_ADDRESS = 30;
export const API_KEY_FAILURE_WINDOW_MS = 60_000;
export const API_KEY_FAILURE_BUCKETS = { key: 'api-key-failures', address: 'api-key-addr-failures' };

/** One body for every wrong or missing part: nothing tells which half was wrong, or whether the key exists. */
export const INVALID_API_KEY = {
  code: 'INVALID_API_KEY',
  message: 'Send a valid key pair as the "x-api-key" and "x-secret-key" headers.',
};

/** Hashed against when the key does not exist, so an unknown key costs the same work as a wrong secret. */
const ABSENT_SECRET_HASH = hashToken('no such key');
/** Longer public keys are not looked up or counted by their value (they cannot exist). */
const MAX_COUNTED_KEY_LENGTH = 128;

const header = (value: string | string[] | undefined): string | null =>
  typeof value === 'string' && value.length > 0 ? value : null;

/**
 * Checks an API key pair (`x-api-key`, `x-secret-key`), for `POST /v1/auth/token` and the server endpoints
 * (`AccountAuthGuard`). The same work whatever is wrong: the secret is hashed and compared in constant time
 * against the stored hash, or against a dummy hash when the key does not exist. Guessing is limited in Redis
 * (so across replicas; fails open while Redis is away, like every limit):
 * - per API key: after `API_KEY_FAILURES_PER_KEY` wrong pairs in a minute the key is refused with 429 until the
 *   window ends, the right secret too — so a secret cannot be guessed faster than that from any number of
 *   addresses (tokens already issued keep working);
 * - per client address: past `API_KEY_FAILURES_PER_ADDRESS` wrong pairs in a minute they are answered 429.
 */
@Injectable()
export class ApiKeyAuthService {
  private readonly logger = new Logger('ApiKeyAuth');

  constructor(
    private readonly keys: ApiKeyStore,
    private readonly limiter: RateLimiter,
    private readonly usage: ApiKeyUsage,
  ) {}

  /** Whether the request carries either header of the key pair. */
  static presented(headers: Record<string, string | string[] | undefined>): boolean {
    return headers['x-api-key'] !== undefined || headers['x-secret-key'] !== undefined;
  }

  async authenticate(
    headers: Record<string, string | string[] | undefined>,
    clientAddress: string,
  ): Promise<ApiKeyCredential> {
    const apiKey = header(headers['x-api-key']);
    const secretKey = header(headers['x-secret-key']) ?? '';
    const counted = apiKey && apiKey.length <= MAX_COUNTED_KEY_LENGTH ? apiKey : null;
    if (counted) await this.refuseIfLocked(counted);
    const candidate = hashToken(secretKey);
    const stored = counted && API_KEY_PATTERN.test(counted) ? await this.keys.findByApiKey(counted) : null;
    const matches = constantTimeEquals(candidate, stored?.secretHash ?? ABSENT_SECRET_HASH);
    if (stored && matches && SECRET_KEY_PATTERN.test(secretKey)) {
      this.usage.used(stored.id);
      return stored;
    }
    if (apiKey === null && secretKey === '') throw unauthorized();
    throw (await this.countFailure(counted, clientAddress)) ?? unauthorized();
  }

  private async refuseIfLocked(apiKey: string): Promise<void> {
    let failures: number;
    try {
      failures = await this.limiter.count(API_KEY_FAILURE_BUCKETS.key, apiKey);
    } catch (e) {
      this.logger.warn(`API key failure counter unavailable: ${(e as Error).message}`);
      return;
    }
    if (failures >= API_KEY_FAILURES_PER_KEY) {
      throw tooMany(
        'Too many wrong secrets for this API key; it is refused for a minute.',
        API_KEY_FAILURE_WINDOW_MS,
      );
    }
  }

  private async countFailure(apiKey: string | null, address: string): Promise<RateLimitedError | null> {
    try {
      const [byKey, byAddress] = await Promise.all([
        apiKey
          ? this.limiter.hit(
              API_KEY_FAILURE_BUCKETS.key,
              apiKey,
              API_KEY_FAILURES_PER_KEY,
              API_KEY_FAILURE_WINDOW_MS,
            )
          : null,
        this.limiter.hit(
          API_KEY_FAILURE_BUCKETS.address,
          address,
          API_KEY_FAILURES_PER_ADDRESS,
          API_KEY_FAILURE_WINDOW_MS,
        ),
      ]);
      if (!byAddress.allowed) {
        return tooMany('Too many wrong API keys from this address.', byAddress.resetMs);
      }
      if (byKey && !byKey.allowed) {
        return tooMany('Too many wrong secrets for this API key; it is refused for a minute.', byKey.resetMs);
      }
    } catch (e) {
      this.logger.warn(`API key failure counter unavailable: ${(e as Error).message}`);
    }
    return null;
  }
}

function unauthorized(): UnauthorizedError {
  return new UnauthorizedError(INVALID_API_KEY.code, INVALID_API_KEY.message);
}

function tooMany(message: string, resetMs: number): RateLimitedError {
  return new RateLimitedError(message, { 'Retry-After': String(Math.max(1, Math.ceil(resetMs / 1000))) });
}
