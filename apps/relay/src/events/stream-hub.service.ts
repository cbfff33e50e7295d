import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnModuleDestroy,
  OnModuleInit,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import { RELAY_CONFIG, RelayConfig } from '@app/config';
import { channelNames, PubSubService, StreamPresence } from '@app/messaging';
import { InboundMessagesRepository, SessionsRepository } from '@app/persistence';
import { RelayMetrics } from '@app/platform';
import { AgentPrincipal } from '../auth/agent-principal';
import { PairingService } from '../pairing/pairing.service';
import { AgentStream, StreamContext } from './agent-stream';
import { DeliveryMarker } from './delivery-marker';

const PRESENCE_EVERY_MS = 5000;
const PRESENCE_DEBOUNCE_MS = 50;

/**
 * The SSE broker of this replica: holds its agent streams, wires them to Redis Pub/Sub (through the process's
 * single subscriber), sends heartbeats from one timer for all streams, catches streams up after a Redis outage
 * and ends them all on shutdown.
 */
@Injectable()
export class StreamHub implements OnModuleInit, OnModuleDestroy, BeforeApplicationShutdown {
  private readonly logger = new Logger('AgentStreams');
  private readonly streams = new Set<AgentStream>();
  private heartbeat: NodeJS.Timeout | null = null;
  private presenceTimer: NodeJS.Timeout | null = null;
  private presenceSoon: NodeJS.Timeout | null = null;
  private removeReconnectListener: (() => void) | null = null;
  private readonly ctx: StreamContext;

  constructor(
    @Inject(RELAY_CONFIG) private readonly config: RelayConfig,
    private readonly pubsub: PubSubService,
    private readonly messages: InboundMessagesRepository,
    private readonly sessions: SessionsRepository,
    private readonly pairing: PairingService,
    private readonly marker: DeliveryMarker,
    private readonly metrics: RelayMetrics,
    private readonly presence: StreamPresence,
  ) {
    const ttl = config.queueTtlSeconds;
    this.ctx = {
      subscribeAccount: (id, handler) =>
        this.pubsub.subscribe(this.pubsub.channel(...channelNames.account(id)), handler),
      subscribeSession: (id, handler) =>
        this.pubsub.subscribe(this.pubsub.channel(...channelNames.session(id)), handler),
      snapshot: (accountId, afterSeq) => this.messages.replaySnapshot(accountId, afterSeq, ttl),
      seqRange: (accountId, from, to) => this.messages.findSeqRange(accountId, from, to),
      after: (accountId, afterSeq) => this.messages.findAfterSeq(accountId, afterSeq, ttl),
      markDelivered: (accountId, seq) => {
        this.marker.mark(accountId, seq);
        this.metrics.messagesDelivered.inc();
      },
      sessionExpired: async (sessionId) => {
        const session = await this.sessions.findById(sessionId);
        if (!session) return true;
        const current = await this.pairing.applyExpiry(session);
        return current.status === 'expired' || current.status === 'disconnected';
      },
      onClosed: (stream) => {
        this.streams.delete(stream);
        this.presenceChanged();
      },
      warn: (message) => this.logger.warn(message),
    };
  }

  onModuleInit(): void {
    this.metrics.gauge('relay_open_streams', 'Agent streams open on this process', [], (gauge) => {
      gauge.set(this.streams.size);
    });
    this.heartbeat = setInterval(() => {
      for (const stream of this.streams) stream.ping();
    }, this.config.sseHeartbeatSeconds * 1000);
    this.heartbeat.unref();
    this.presenceTimer = setInterval(() => void this.reportPresence(), PRESENCE_EVERY_MS);
    this.presenceTimer.unref();
    void this.reportPresence();
    this.removeReconnectListener = this.pubsub.onReconnect(() => {
      for (const stream of this.streams) {
        stream.catchUp().catch((e: Error) => this.logger.warn(`catch-up failed: ${e.message}`));
      }
    });
  }

  get size(): number {
    return this.streams.size;
  }

  /** Takes over an authenticated request and turns it into an agent stream. */
  async open(
    principal: AgentPrincipal,
    req: Request,
    res: Response,
    lastEventId: number | null,
  ): Promise<void> {
    req.socket.setTimeout(0);
    req.socket.setNoDelay(true);
    req.socket.setKeepAlive(true, 60_000);
    res.status(200);
    res.setHeader('Content-Type', 'text/event-stream');
    res.setHeader('Cache-Control', 'no-cache');
    res.setHeader('Connection', 'keep-alive');
    res.setHeader('X-Accel-Buffering', 'no');
    res.flushHeaders();
    const stream = new AgentStream(this.ctx, res, principal, lastEventId);
    this.streams.add(stream);
    this.presenceChanged();
    res.on('close', () => stream.close());
    try {
      await stream.start();
    } catch (e) {
      this.logger.warn(`stream start failed: ${(e as Error).message}`);
      stream.close();
    }
  }

  /** Reports the new stream count soon (debounced), so the overview is current without a write per change. */
  private presenceChanged(): void {
    if (this.presenceSoon) return;
    this.presenceSoon = setTimeout(() => {
      this.presenceSoon = null;
      void this.reportPresence();
    }, PRESENCE_DEBOUNCE_MS);
    this.presenceSoon.unref();
  }

  private async reportPresence(): Promise<void> {
    try {
      await this.presence.report(this.streams.size);
    } catch {
      // Redis away: the key expires and the overview counts this replica again once it is back.
    }
  }

  onModuleDestroy(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    if (this.presenceTimer) clearInterval(this.presenceTimer);
    if (this.presenceSoon) clearTimeout(this.presenceSoon);
    this.removeReconnectListener?.();
  }

  /** Ends every open stream so that the HTTP server can close; agents reconnect to another replica. */
  async beforeApplicationShutdown(): Promise<void> {
    for (const stream of [...this.streams]) stream.close();
    await Promise.all([this.marker.flush(), this.presence.withdraw().catch(() => undefined)]);
  }
}
