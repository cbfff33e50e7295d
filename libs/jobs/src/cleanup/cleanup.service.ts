import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { RELAY_CONFIG, RelayConfig } from '@app/config';
import { CleanupStore, Clock, HeldAnswerStore, SessionStore, TunnelStore } from '@app/core';
import { RedisService, StreamPresence } from '@app/messaging';
import { SessionExpiry } from '@app/pairing';
import { RelayMetrics } from '@app/platform';

export interface CleanupResults {
  expiredQueued: number;
  expiredUnanswered: number;
  failedStaleSends: number;
  deletedMessages: number;
  expiredSessions: number;
  deletedSessions: number;
  /** Held answers past HELD_ANSWER_TTL_HOURS (server-mode §4). */
  expiredHeldAnswers: number;
  /** Held answers claimed by a send that ended without delivering them (a crash), given back. */
  releasedHeldClaims: number;
  /** Held answers whose Event API job was lost or whose event block never asked, given to the next answer. */
  releasedHeldEvents: number;
  /** Finished held answers older than MESSAGE_RETENTION_DAYS, deleted. */
  deletedHeldAnswers: number;
  /** Tunnel requests (log rows, durable bodies) past TUNNEL_RETENTION_HOURS. */
  deletedTunnelRequests: number;
  /** Tunnels with no connection and no traffic for TUNNEL_IDLE_DAYS. */
  deletedIdleTunnels: number;
}

/**
 * A held answer's claim is given back once its send is no longer pending (failed, given up, or gone); claims younger
 * than this are left alone (the send's own transaction settles them).
 */
const HELD_CLAIM_GRACE_MS = 5_000;
/** An Event API call is retried for about a minute; Kakao runs the event block within seconds of taking it. */
const HELD_EVENT_WAIT_MS = 10 * 60_000;

/** Rows per statement of the batched steps (deletes, session expiry). */
const BATCH = 1000;
/** A batched step stops after this long and leaves the rest to the next tick (bounded work per tick). */
const BATCH_BUDGET_MS = 10_000;
const KEEP_RUNS = 100;
/** Sends still pending this long after their deadline are given up (the send job itself stops at +4 s). */
const STALE_SEND_GRACE_SECONDS = 30;

/**
 * Housekeeping, every CLEANUP_INTERVAL_SECONDS, once per cluster per tick: the replica that takes the tick's
 * Redis key (SET NX, keyed by the tick number) runs it, the others skip. Expiry of sessions already takes effect
 * on every use; here `SessionExpiry` sweeps the sessions nobody used since they lapsed (the safety net that keeps
 * the tables small and the counters honest).
 */
@Injectable()
export class CleanupService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('Cleanup');
  private running = false;

  constructor(
    @Inject(RELAY_CONFIG) private readonly config: RelayConfig,
    private readonly repo: CleanupStore,
    private readonly sessions: SessionStore,
    private readonly expiry: SessionExpiry,
    private readonly clock: Clock,
    private readonly redis: RedisService,
    private readonly presence: StreamPresence,
    private readonly scheduler: SchedulerRegistry,
    private readonly metrics: RelayMetrics,
    private readonly held: HeldAnswerStore,
    private readonly tunnels: TunnelStore,
  ) {}

  private get intervalMs(): number {
    return this.config.cleanupIntervalSeconds * 1000;
  }

  onModuleInit(): void {
    const timer = setInterval(() => void this.tick(), this.intervalMs);
    timer.unref();
    this.scheduler.addInterval('cleanup', timer);
  }

  onModuleDestroy(): void {
    if (this.scheduler.doesExist('interval', 'cleanup')) this.scheduler.deleteInterval('cleanup');
  }

  /** Runs this tick's cleanup if no other replica took it; returns the results, or null when skipped. */
  async tick(): Promise<CleanupResults | null> {
    if (this.running) return null;
    const tickNumber = Math.floor(this.clock.now() / this.intervalMs);
    let won: string | null;
    try {
      won = await this.redis.command.set(
        this.redis.key('lock', 'cleanup', String(tickNumber)),
        this.presence.instanceId,
        'PX',
        this.intervalMs * 2,
        'NX',
      );
    } catch (e) {
      this.logger.warn(`cleanup skipped, Redis unavailable: ${(e as Error).message}`);
      return null;
    }
    if (won !== 'OK') return null;
    return this.runOnce();
  }

  /** One full run (no lock): what the tick does once it owns the tick. */
  async runOnce(): Promise<CleanupResults | null> {
    if (this.running) return null;
    this.running = true;
    const startedAt = this.clock.date();
    try {
      const results: CleanupResults = {
        expiredQueued: await this.repo.expireQueued(this.config.queueTtlSeconds),
        expiredUnanswered: await this.repo.expireUnanswered(),
        failedStaleSends: await this.repo.failStaleSends(STALE_SEND_GRACE_SECONDS),
        deletedMessages: await this.inBatches(() =>
          this.repo.deleteOldMessages(this.config.messageRetentionDays, BATCH),
        ),
        expiredSessions: await this.inBatches(() => this.expiry.expireLapsed(BATCH)),
        deletedSessions: await this.inBatches(() => this.sessions.deleteEndedLongAgo(BATCH)),
        releasedHeldClaims: await this.held.releaseStaleClaims(this.clock.after(-HELD_CLAIM_GRACE_MS)),
        releasedHeldEvents: await this.inBatches(() =>
          this.held.releaseStaleEvents(this.clock.after(-HELD_EVENT_WAIT_MS), BATCH),
        ),
        expiredHeldAnswers: await this.inBatches(() => this.held.expire(this.clock.date(), BATCH)),
        deletedHeldAnswers: await this.inBatches(() =>
          this.held.deleteFinished(this.clock.after(-this.config.messageRetentionDays * 86_400_000), BATCH),
        ),
        deletedTunnelRequests: await this.inBatches(() =>
          this.tunnels.deleteOldRequests(this.config.tunnelRetentionHours, BATCH),
        ),
        // A connected tunnel's holder marks it active every few minutes (TunnelHub's heartbeat), so an idle one
        // is one nobody connected to or sent to for TUNNEL_IDLE_DAYS.
        deletedIdleTunnels: await this.inBatches(() =>
          this.tunnels.deleteIdle(this.config.tunnelIdleDays, [], BATCH),
        ),
      };
      this.metrics.messagesExpired.inc(results.expiredQueued + results.expiredUnanswered);
      await this.repo.recordRun(this.presence.instanceId, startedAt, { ...results });
      await this.repo.deleteOldRuns(KEEP_RUNS);
      this.logger.log(
        { cleanup: results, ms: this.clock.now() - startedAt.getTime() },
        'cleanup run finished',
      );
      return results;
    } catch (e) {
      this.logger.error(`cleanup run failed: ${(e as Error).message}`);
      return null;
    } finally {
      this.running = false;
    }
  }

  /** Repeats a bounded statement until it touches less than a batch, or the run's time budget is spent. */
  private async inBatches(batch: () => Promise<number>): Promise<number> {
    const started = this.clock.now();
    let total = 0;
    for (;;) {
      const n = await batch();
      total += n;
      if (n < BATCH || this.clock.now() - started > BATCH_BUDGET_MS) return total;
    }
  }
}
