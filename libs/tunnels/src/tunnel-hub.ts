import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { WebSocket } from 'ws';
import { RELAY_CONFIG, RelayConfig } from '@app/config';
import { Tunnel, TunnelMode, TunnelRequestData, TunnelResponseData, TunnelStore } from '@app/core';
import { PubSubService, RedisService, StreamPresence } from '@app/messaging';
import { parseResponseFrame, requestFrame } from './tunnel-frames';

/** What became of a forwarded request. */
export type TunnelOutcome =
  { kind: 'response'; response: TunnelResponseData } | { kind: 'offline' | 'timeout' | 'disconnected' };

/** Close codes of a tunnel socket. */
export const TUNNEL_CLOSE = { replaced: 4409, deleted: 4404, shutdown: 1001, unresponsive: 4408 } as const;

/** The holder key lives this long unless refreshed (every HEARTBEAT_MS while the socket is open). */
const HOLDER_TTL_MS = 30_000;
const HEARTBEAT_MS = 10_000;
/** A durable tunnel's pump also looks for stored requests this often (wake-ups lost while Redis was away). */
const DURABLE_POLL_MS = 2_000;
/** The ingress's view of a tunnel is at most this old (a deletion also evicts it at once, on every replica). */
const TUNNEL_CACHE_MS = 5_000;
/** Activity is written to the database at most this often per tunnel (idle cleanup counts in days). */
const TOUCH_EVERY_MS = 60_000;
/** The `connId` of a kick that means "the tunnel was deleted" (every replica closes its socket with 4404). */
const DELETED = 'deleted';

interface LocalConnection {
  connId: string;
  tunnelId: string;
  mode: TunnelMode;
  socket: WebSocket;
  pending: Map<string, (outcome: TunnelOutcome) => void>;
  closed: boolean;
  alive: boolean;
  pumping: boolean;
  wakeAgain: boolean;
}

/** Messages on a replica's own channel. */
type ReplicaMessage =
  | {
      k: 'req';
      from: string;
      tunnelId: string;
      id: string;
      method: string;
      path: string;
      headers: Record<string, string | string[]>;
      body: string;
    }
  | { k: 'res'; id: string; status: number; headers: Record<string, string | string[]>; body: string }
  | { k: 'err'; id: string; error: 'offline' | 'timeout' | 'disconnected' }
  | { k: 'wake'; tunnelId: string };

/**
 * The tunnels' sockets of this replica and the way to them from any replica (websocket.md §2):
 * - the replica holding a tunnel's socket registers it in Redis (`tunnel:holder:{id}` → `{replica} {connection}`,
 *   TTL refreshed by the heartbeat); a new connection announces itself on the `tunnel:kick` channel and every
 *   replica closes its older socket of that tunnel with 4409;
 * - a live request that lands on another replica is published on the holder's channel (`tunnel:replica:{id}`) and
 *   its answer comes back on the asking replica's channel; no holder, or nobody listening → offline;
 * - a durable tunnel's socket pumps its stored requests from PostgreSQL, oldest first, one at a time, each until
 *   the program answers; a wake-up on the holder's channel (or the poll) starts it. Redis only speeds it up.
 */
@Injectable()
export class TunnelHub implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('TunnelHub');
  private readonly local = new Map<string, LocalConnection>();
  /** Live requests this replica sent to another replica, by request id. */
  private readonly awaiting = new Map<string, (outcome: TunnelOutcome) => void>();
  private readonly ownChannel: string;
  private readonly kickChannel: string;
  private unsubscribe: Array<() => void> = [];
  private readonly tunnels = new Map<string, { tunnel: Tunnel; until: number }>();
  private readonly touched = new Map<string, number>();
  private heartbeat?: NodeJS.Timeout;
  private poll?: NodeJS.Timeout;

  constructor(
    @Inject(RELAY_CONFIG) private readonly config: RelayConfig,
    private readonly store: TunnelStore,
    private readonly redis: RedisService,
    private readonly pubsub: PubSubService,
    presence: StreamPresence,
  ) {
    this.instanceId = presence.instanceId;
    this.ownChannel = pubsub.channel('tunnel', 'replica', this.instanceId);
    this.kickChannel = pubsub.channel('tunnel', 'kick');
  }

  readonly instanceId: string;

  async onModuleInit(): Promise<void> {
    this.unsubscribe.push(
      await this.pubsub.subscribe(this.ownChannel, (_m, json) =>
        this.onReplicaMessage(json() as ReplicaMessage),
      ),
      await this.pubsub.subscribe(this.kickChannel, (_m, json) => {
        const { tunnelId, connId } = json() as { tunnelId: string; connId: string };
        const conn = this.local.get(tunnelId);
        if (connId === DELETED) {
          this.tunnels.delete(tunnelId);
          if (conn) this.close(conn, TUNNEL_CLOSE.deleted, 'tunnel deleted');
        } else if (conn && conn.connId !== connId) {
          this.close(conn, TUNNEL_CLOSE.replaced, 'replaced by a newer connection');
        }
      }),
    );
    this.heartbeat = setInterval(() => void this.beat(), HEARTBEAT_MS);
    this.heartbeat.unref();
    this.poll = setInterval(() => {
      for (const conn of this.local.values()) if (conn.mode === 'durable') void this.pump(conn);
    }, DURABLE_POLL_MS);
    this.poll.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.heartbeat);
    clearInterval(this.poll);
    for (const u of this.unsubscribe) u();
    for (const conn of [...this.local.values()])
      this.close(conn, TUNNEL_CLOSE.shutdown, 'relay shutting down');
    for (const settle of this.awaiting.values()) settle({ kind: 'disconnected' });
    this.awaiting.clear();
  }

  /** The tunnel (for the ingress), from a short-lived cache. */
  async lookup(id: string): Promise<Tunnel | null> {
    const now = Date.now();
    const cached = this.tunnels.get(id);
    if (cached && cached.until > now) return cached.tunnel;
    const tunnel = await this.store.findById(id);
    if (tunnel) {
      if (this.tunnels.size > 10_000) this.tunnels.clear();
      this.tunnels.set(id, { tunnel, until: now + TUNNEL_CACHE_MS });
    } else this.tunnels.delete(id);
    return tunnel;
  }

  /** Marks traffic on the tunnel (written at most once a minute per tunnel and replica). */
  noteActivity(id: string): void {
    const now = Date.now();
    if ((this.touched.get(id) ?? 0) > now - TOUCH_EVERY_MS) return;
    if (this.touched.size > 10_000) this.touched.clear();
    this.touched.set(id, now);
    void this.store.touch([id]).catch(() => undefined);
  }

  /** Tunnels whose socket this replica holds (tests, metrics). */
  get connectedTunnels(): string[] {
    return [...this.local.keys()];
  }

  /** Takes a program's socket for the tunnel; an older socket of the tunnel (here or elsewhere) is closed 4409. */
  attach(tunnelId: string, mode: TunnelMode, socket: WebSocket): void {
    const conn: LocalConnection = {
      connId: randomUUID(),
      tunnelId,
      mode,
      socket,
      pending: new Map(),
      closed: false,
      alive: true,
      pumping: false,
      wakeAgain: false,
    };
    const prior = this.local.get(tunnelId);
    if (prior) this.close(prior, TUNNEL_CLOSE.replaced, 'replaced by a newer connection');
    this.local.set(tunnelId, conn);
    socket.on('message', (data, isBinary) => {
      if (isBinary) return;
      let parsed: unknown;
      try {
        parsed = JSON.parse(data.toString());
      } catch {
        return;
      }
      const frame = parseResponseFrame(parsed);
      if (!frame) return;
      const settle = conn.pending.get(frame.id);
      if (!settle) return;
      conn.pending.delete(frame.id);
      settle({ kind: 'response', response: frame.response });
    });
    socket.on('pong', () => (conn.alive = true));
    socket.on('close', () => this.detach(conn));
    socket.on('error', () => this.detach(conn));
    void this.register(conn);
    void this.store.touch([tunnelId]).catch(() => undefined);
    if (mode === 'durable') void this.pump(conn);
  }

  /** Closes the tunnel's socket wherever it is (the tunnel was deleted). */
  async disconnect(tunnelId: string): Promise<void> {
    this.tunnels.delete(tunnelId);
    const conn = this.local.get(tunnelId);
    if (conn) this.close(conn, TUNNEL_CLOSE.deleted, 'tunnel deleted');
    await this.pubsub
      .publish(this.kickChannel, JSON.stringify({ tunnelId, connId: DELETED }))
      .catch(() => undefined);
  }

  /** Forwards a live request to the program, wherever its socket is, and waits for the answer. */
  async forward(tunnelId: string, request: TunnelRequestData): Promise<TunnelOutcome> {
    const timeoutMs = this.config.tunnelResponseTimeoutMs;
    const conn = this.local.get(tunnelId);
    if (conn) return this.send(conn, request, timeoutMs);
    let holder: string | null;
    try {
      holder = await this.redis.command.get(this.holderKey(tunnelId));
    } catch {
      return { kind: 'offline' };
    }
    const replica = holder?.split(' ')[0];
    if (!replica || replica === this.instanceId) return { kind: 'offline' };
    return new Promise<TunnelOutcome>((resolve) => {
      const timer = setTimeout(() => finish({ kind: 'timeout' }), timeoutMs);
      const finish = (outcome: TunnelOutcome) => {
        if (!this.awaiting.delete(request.id)) return;
        clearTimeout(timer);
        resolve(outcome);
      };
      this.awaiting.set(request.id, finish);
      const message: ReplicaMessage = {
        k: 'req',
        from: this.instanceId,
        tunnelId,
        id: request.id,
        method: request.method,
        path: request.path,
        headers: request.headers,
        body: request.body.toString('base64'),
      };
      this.pubsub
        .publish(this.pubsub.channel('tunnel', 'replica', replica), JSON.stringify(message))
        .then((receivers) => {
          if (receivers === 0) finish({ kind: 'offline' });
        })
        .catch(() => finish({ kind: 'offline' }));
    });
  }

  /** A durable request was stored: the holder's pump (here or elsewhere) should look. Best effort. */
  async wake(tunnelId: string): Promise<void> {
    const conn = this.local.get(tunnelId);
    if (conn) {
      void this.pump(conn);
      return;
    }
    try {
      const replica = (await this.redis.command.get(this.holderKey(tunnelId)))?.split(' ')[0];
      if (replica && replica !== this.instanceId) {
        const message: ReplicaMessage = { k: 'wake', tunnelId };
        await this.pubsub.publish(this.pubsub.channel('tunnel', 'replica', replica), JSON.stringify(message));
      }
    } catch {
      // Redis away: the holder's poll finds the request.
    }
  }

  /** Is the tunnel's socket held by some replica (as far as Redis knows, or here)? */
  async isConnected(tunnelId: string): Promise<boolean> {
    if (this.local.has(tunnelId)) return true;
    try {
      return (await this.redis.command.exists(this.holderKey(tunnelId))) === 1;
    } catch {
      return false;
    }
  }

  private holderKey(tunnelId: string): string {
    return this.redis.key('tunnel', 'holder', tunnelId);
  }

  private send(conn: LocalConnection, request: TunnelRequestData, timeoutMs: number): Promise<TunnelOutcome> {
    if (conn.closed) return Promise.resolve({ kind: 'disconnected' });
    return new Promise<TunnelOutcome>((resolve) => {
      const timer = setTimeout(() => finish({ kind: 'timeout' }), timeoutMs);
      const finish = (outcome: TunnelOutcome) => {
        if (conn.pending.get(request.id) === finish) conn.pending.delete(request.id);
        clearTimeout(timer);
        resolve(outcome);
      };
      conn.pending.set(request.id, finish);
      conn.socket.send(requestFrame(request), (err) => {
        if (err) finish({ kind: 'disconnected' });
      });
    });
  }

  private async register(conn: LocalConnection): Promise<void> {
    try {
      await this.pubsub.publish(
        this.kickChannel,
        JSON.stringify({ tunnelId: conn.tunnelId, connId: conn.connId }),
      );
      if (!conn.closed) {
        await this.redis.command.set(
          this.holderKey(conn.tunnelId),
          `${this.instanceId} ${conn.connId}`,
          'PX',
          HOLDER_TTL_MS,
        );
      }
    } catch (e) {
      this.logger.warn(
        `tunnel ${conn.tunnelId}: could not register its socket in Redis: ${(e as Error).message}`,
      );
    }
  }

  private detach(conn: LocalConnection): void {
    if (conn.closed) return;
    conn.closed = true;
    if (this.local.get(conn.tunnelId) === conn) {
      this.local.delete(conn.tunnelId);
      // Only our own registration goes (a newer socket elsewhere may hold the key now).
      this.redis.command
        .eval(
          `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`,
          1,
          this.holderKey(conn.tunnelId),
          `${this.instanceId} ${conn.connId}`,
        )
        .catch(() => undefined);
      void this.store.touch([conn.tunnelId]).catch(() => undefined);
    }
    for (const settle of [...conn.pending.values()]) settle({ kind: 'disconnected' });
    conn.pending.clear();
  }

  private close(conn: LocalConnection, code: number, reason: string): void {
    this.detach(conn);
    try {
      if (code === TUNNEL_CLOSE.shutdown || code >= 4000) conn.socket.close(code, reason);
      else conn.socket.terminate();
    } catch {
      conn.socket.terminate();
    }
  }

  private async beat(): Promise<void> {
    const ids: string[] = [];
    for (const conn of [...this.local.values()]) {
      if (!conn.alive) {
        this.close(conn, TUNNEL_CLOSE.unresponsive, 'no pong');
        continue;
      }
      conn.alive = false;
      conn.socket.ping();
      ids.push(conn.tunnelId);
      this.redis.command
        .set(this.holderKey(conn.tunnelId), `${this.instanceId} ${conn.connId}`, 'PX', HOLDER_TTL_MS)
        .catch(() => undefined);
    }
    await this.store.touch(ids).catch(() => undefined);
  }

  /** Sends the durable tunnel's stored requests, oldest first, each until answered; stops when the socket goes. */
  private async pump(conn: LocalConnection): Promise<void> {
    if (conn.pumping) {
      conn.wakeAgain = true;
      return;
    }
    conn.pumping = true;
    try {
      do {
        conn.wakeAgain = false;
        while (!conn.closed) {
          const next = await this.store.nextPending(conn.tunnelId);
          if (!next) break;
          const outcome = await this.send(conn, next, this.config.tunnelResponseTimeoutMs);
          if (outcome.kind === 'response') await this.store.recordAnswer(next.id, outcome.response);
          else if (outcome.kind === 'disconnected') return;
          // timeout: the same request again (it stays first until the program answers it).
        }
      } while (conn.wakeAgain && !conn.closed);
    } catch (e) {
      this.logger.warn(`tunnel ${conn.tunnelId}: durable delivery paused: ${(e as Error).message}`);
    } finally {
      conn.pumping = false;
    }
  }

  private onReplicaMessage(message: ReplicaMessage): void {
    switch (message.k) {
      case 'req': {
        const conn = this.local.get(message.tunnelId);
        const reply = (outcome: TunnelOutcome) => {
          const answer: ReplicaMessage =
            outcome.kind === 'response'
              ? {
                  k: 'res',
                  id: message.id,
                  status: outcome.response.status,
                  headers: outcome.response.headers,
                  body: outcome.response.body.toString('base64'),
                }
              : { k: 'err', id: message.id, error: outcome.kind };
          this.pubsub
            .publish(this.pubsub.channel('tunnel', 'replica', message.from), JSON.stringify(answer))
            .catch(() => undefined);
        };
        if (!conn) return reply({ kind: 'offline' });
        const request: TunnelRequestData = {
          id: message.id,
          method: message.method,
          path: message.path,
          headers: message.headers,
          body: Buffer.from(message.body, 'base64'),
        };
        void this.send(conn, request, this.config.tunnelResponseTimeoutMs + 1000).then(reply);
        return;
      }
      case 'res':
        this.awaiting.get(message.id)?.({
          kind: 'response',
          response: {
            status: message.status,
            headers: message.headers,
            body: Buffer.from(message.body, 'base64'),
          },
        });
        return;
      case 'err':
        this.awaiting.get(message.id)?.({ kind: message.error });
        return;
      case 'wake': {
        const conn = this.local.get(message.tunnelId);
        if (conn) void this.pump(conn);
        return;
      }
    }
  }
}
