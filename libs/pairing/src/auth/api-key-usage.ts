import { Injectable, Logger } from '@nestjs/common';
import { ApiKeyStore, Clock } from '@app/core';

const TOUCH_EVERY_MS = 60_000;
const REMEMBERED_MAX = 10_000;

/**
 * `last_used_at` kept cheaply: at most one UPDATE per key per minute per process (and the statement itself is a
 * no-op when another replica set it less than a minute ago). Best effort: a failed write is logged, never
 * refuses a request.
 */
@Injectable()
export class ApiKeyUsage {
  private readonly logger = new Logger('ApiKeyUsage');
  private readonly touched = new Map<string, number>();

  constructor(
    private readonly keys: ApiKeyStore,
    private readonly clock: Clock,
  ) {}

  used(keyId: string): void {
    const now = this.clock.now();
    const last = this.touched.get(keyId);
    if (last !== undefined && now - last < TOUCH_EVERY_MS) return;
    if (this.touched.size >= REMEMBERED_MAX) this.touched.clear();
    this.touched.set(keyId, now);
    this.keys.touch(keyId).catch((e: Error) => this.logger.warn(`last_used_at not updated: ${e.message}`));
  }
}
