import { Injectable, Logger } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { Clock } from '@app/core';
import { WorksAuthClient, WorksClientApp } from './works-auth.client';
import { CachedWorksToken, WorksTokenCache } from './works-token.cache';

/** A token is renewed once this share of its life has passed (Works tokens last a day: after ~19 h). */
export const RENEW_AT_FRACTION = 0.8;
/** How long one replica may hold the renewal lock (the token request times out in 10 s). */
const LOCK_TTL_MS = 15_000;
/** How long a caller waits for another replica's renewal before giving up. */
const WAIT_FOR_RENEWAL_MS = 20_000;
const POLL_MS = 50;

/** The cache key of a client app: a digest of its client id (ids are not secrets, but keys stay opaque). */
export function tokenCacheKey(clientId: string): string {
  return createHash('sha256').update(clientId).digest('hex').slice(0, 32);
}

export function renewAt(entry: CachedWorksToken): number {
  return entry.issuedAt + (entry.expiresAt - entry.issuedAt) * RENEW_AT_FRACTION;
}

/**
 * One access token per client app, shared by every replica through the cache: renewed once it is 80% through
 * its life, by one replica at a time (a lock; while a still-valid token is being renewed the others keep using
 * it, and with no valid token they wait for the new one). A 401 from the send API invalidates exactly the token
 * that failed (`invalidate`), so that concurrent 401s lead to one renewal.
 */
@Injectable()
export class WorksAccessTokens {
  private readonly logger = new Logger(WorksAccessTokens.name);

  constructor(
    private readonly cache: WorksTokenCache,
    private readonly auth: WorksAuthClient,
    private readonly clock: Clock,
  ) {}

  async token(app: WorksClientApp): Promise<string> {
    const key = tokenCacheKey(app.clientId);
    const cached = await this.cache.get(key);
    const now = this.clock.now();
    if (cached && now < renewAt(cached)) return cached.token;
    if (cached && now < cached.expiresAt) {
      // Due for renewal but still valid: renew if nobody else is, otherwise keep using it meanwhile.
      const lock = await this.cache.tryLock(key, LOCK_TTL_MS);
      if (!lock) return cached.token;
      return this.renewHolding(app, key, lock, null).catch((e: Error) => {
        this.logger.warn(`could not renew the Works access token of client app ${key} early: ${e.message}`);
        return cached.token;
      });
    }
    return this.renewOrWait(app, key, null);
  }

  /** The send API refused `token` (401): forget it unless it was renewed meanwhile, and get the current one. */
  async invalidate(app: WorksClientApp, token: string): Promise<string> {
    const key = tokenCacheKey(app.clientId);
    await this.cache.deleteIf(key, token);
    return this.renewOrWait(app, key, token);
  }

  private async renewOrWait(app: WorksClientApp, key: string, stale: string | null): Promise<string> {
    const deadline = this.clock.now() + WAIT_FOR_RENEWAL_MS;
    for (;;) {
      const lock = await this.cache.tryLock(key, LOCK_TTL_MS);
      if (lock) return this.renewHolding(app, key, lock, stale);
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      const cached = await this.cache.get(key);
      if (cached && cached.token !== stale && this.clock.now() < cached.expiresAt) return cached.token;
      if (this.clock.now() > deadline) {
        throw new Error('timed out waiting for another replica to renew the Works access token');
      }
    }
  }

  /** With the lock: unless another replica renewed it just before, ask Works for a token and share it. */
  private async renewHolding(
    app: WorksClientApp,
    key: string,
    lock: string,
    stale: string | null,
  ): Promise<string> {
    try {
      const cached = await this.cache.get(key);
      if (cached && cached.token !== stale && this.clock.now() < renewAt(cached)) return cached.token;
      const issuedAt = this.clock.now();
      const issued = await this.auth.issue(app, issuedAt);
      const expiresAt = issuedAt + issued.expiresInS * 1000;
      await this.cache.put(key, { token: issued.accessToken, issuedAt, expiresAt }, expiresAt - issuedAt);
      this.logger.log(`renewed the Works access token of client app ${key} (valid ${issued.expiresInS} s)`);
      return issued.accessToken;
    } finally {
      await this.cache.unlock(key, lock).catch(() => undefined);
    }
  }
}
