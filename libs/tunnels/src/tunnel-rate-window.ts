import type { RedisService } from '@app/messaging';

const WINDOW_MS = 60_000;
/** How often a replica adds its local count to the cluster's window in Redis (per active tunnel). */
export const RATE_SYNC_MS = 100;

// INCRBY the window counter, set its expiry on first use, answer count and remaining TTL in one round trip.
const INCR_WINDOW = `
local n = redis.call('INCRBY', KEYS[1], ARGV[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]); ttl = tonumber(ARGV[2]) end
return {n, ttl}`;

interface Window {
  /** The cluster's count as Redis last answered, plus what this replica counted since. */
  known: number;
  pending: number;
  resetAt: number;
  timer: NodeJS.Timeout | null;
}

/**
 * A tunnel's requests per minute across the cluster (`TUNNEL_REQUESTS_PER_MINUTE`) without a Redis round trip per
 * request: each replica decides on its own count plus the cluster's count as last seen, and adds its count to the
 * Redis window (one INCRBY) at most every 100 ms per tunnel. Exact on one replica; across replicas a burst may
 * pass the limit by what the others admitted in the last 100 ms. Redis away: local counting only.
 */
export class TunnelRateWindow {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly redis: RedisService,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts a request; answers null when admitted, or the seconds until the window ends when refused. */
  admit(tunnelId: string, limit: number): number | null {
    const now = this.now();
    let w = this.windows.get(tunnelId);
    if (!w || w.resetAt <= now) {
      if (w?.timer) clearTimeout(w.timer);
      if (this.windows.size > 10_000) this.clear();
      w = { known: 0, pending: 0, resetAt: now + WINDOW_MS, timer: null };
      this.windows.set(tunnelId, w);
    }
    if (w.known >= limit) return Math.max(1, Math.ceil((w.resetAt - now) / 1000));
    w.known++;
    w.pending++;
    if (!w.timer) {
      const window = w;
      window.timer = setTimeout(() => void this.sync(tunnelId, window), RATE_SYNC_MS);
      window.timer.unref();
    }
    return null;
  }

  clear(): void {
    for (const w of this.windows.values()) if (w.timer) clearTimeout(w.timer);
    this.windows.clear();
  }

  private async sync(tunnelId: string, w: Window): Promise<void> {
    w.timer = null;
    const delta = w.pending;
    w.pending = 0;
    if (delta === 0) return;
    try {
      const [count, ttl] = (await this.redis.command.eval(
        INCR_WINDOW,
        1,
        this.redis.key('rl', 'tunnel', tunnelId),
        String(delta),
        String(WINDOW_MS),
      )) as [number, number];
      // What this replica counted while the answer travelled is still on top of the cluster's count.
      w.known = Math.max(w.known, count + w.pending);
      w.resetAt = this.now() + ttl;
    } catch {
      // Redis away: the local count stands.
    }
  }
}
