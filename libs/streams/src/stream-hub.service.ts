import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnModuleDestroy,
  OnModuleInit,
} from '@nestjs/common';
import { RELAY_CONFIG, RelayConfig } from '@app/config';
import { TooManyStreamsError } from '@app/core';
import {
  channelNames,
  MessageEventData,
  messageEventJson,
  PubSubService,
  StreamEventPublisher,
  StreamPresence,
  StreamSlot,
  StreamSlots,
} from '@app/messaging';
import { AccountStore, ApiKeyStore, Clock, InboundMessageStore, SessionStore } from '@app/core';
import { RelayMetrics } from '@app/platform';
import { AgentPrincipal } from '@app/pairing';
import { SessionExpiry } from '@app/pairing';
import { AgentStream, StreamContext } from './agent-stream';
import { DeliveryMarker } from './delivery-marker';
import type { EventFormat, StreamCloseReason, StreamTransport } from './stream-transport';

const PRESENCE_EVERY_MS = 5000;
const PRESENCE_DEBOUNCE_MS = 50;

/** A replay page: at most this many messages and (after the first) this many bytes of payload. */
const REPLAY_PAGE = { rows: 64, bytes: 256 * 1024 };

/**
 * The stream broker of this replica, whatever the transport (SSE, WebSocket): holds its agent streams, wires them to Redis Pub/Sub (through the process's
 * single subscriber), enforces the stream caps (per credential and per client address, cluster-wide through
 * `StreamSlots`), serialises each live event once for all its streams, and on every heartbeat re-checks every
 * stream's credential and slot in one batch — so a revocation or replacement whose Pub/Sub message was lost
 * still ends the stream within `SSE_HEARTBEAT_SECONDS`. Catches streams up after a Redis outage and ends them
 * all on shutdown.
 */
@Injectable()
export class StreamHub implements OnModuleInit, OnModuleDestroy, BeforeApplicationShutdown {
  private readonly logger = new Logger('AgentStreams');
  private readonly streams = new Map<string, AgentStream>();
  private heartbeat: NodeJS.Timeout | null = null;
  private presenceTimer: NodeJS.Timeout | null = null;
  private presenceSoon: NodeJS.Timeout | null = null;
  private removeReconnectListener: (() => void) | null = null;
  private verifying: Promise<void> | null = null;
  private stopping = false;
  /**
   * Framed live events per transport format, keyed by the data object that `PubSubService` parsed once for all
   * streams.
   */
  private readonly frames = new Map<EventFormat, WeakMap<object, string>>();
  private readonly json = new WeakMap<object, string>();
  private readonly ctx: StreamContext;

  constructor(
    @Inject(RELAY_CONFIG) private readonly config: RelayConfig,
    private readonly pubsub: PubSubService,
    private readonly messages: InboundMessageStore,
    private readonly sessions: SessionStore,
    private readonly accounts: AccountStore,
    private readonly apiKeys: ApiKeyStore,
    private readonly expiry: SessionExpiry,
    private readonly marker: DeliveryMarker,
    private readonly metrics: RelayMetrics,
    private readonly presence: StreamPresence,
    private readonly slots: StreamSlots,
    private readonly publisher: StreamEventPublisher,
    private readonly clock: Clock,
  ) {
    const ttl = config.queueTtlSeconds;
    this.ctx = {
      subscribeAccount: (id, handler) =>
        this.pubsub.subscribe(this.pubsub.channel(...channelNames.account(id)), handler),
      subscribeSession: (id, handler) =>
        this.pubsub.subscribe(this.pubsub.channel(...channelNames.session(id)), handler),
      replayStart: (accountId, lastEventId) => this.messages.replayStart(accountId, lastEventId),
      replayPage: (accountId, range) => this.messages.replayPage(accountId, range, ttl, REPLAY_PAGE),
      seqRange: (accountId, from, to) => this.messages.findSeqRange(accountId, from, to),
      messageFrame: (format, seq, data) => this.messageFrame(format, seq, data),
      eventJson: (data) => this.eventJson(data),
      markDelivered: (accountId, seq) => {
        this.marker.mark(accountId, seq);
        this.metrics.messagesDelivered.inc();
      },
      sessionExpired: (sessionId) => this.expiry.hasEnded(sessionId),
      now: () => this.clock.now(),
      onClosed: (stream, reason) => this.onClosed(stream, reason),
      warn: (message) => this.logger.warn(message),
      maxBufferBytes: config.streamMaxBufferBytes,
    };
  }

  onModuleInit(): void {
    this.metrics.gauge('relay_open_streams', 'Agent streams open on this process', [], (gauge) => {
      gauge.set(this.streams.size);
    });
    this.metrics.gauge(
      'relay_open_streams_by_transport',
      'Agent streams open on this process, by transport (sse, ws)',
      ['transport'],
      (gauge) => {
        gauge.reset();
        const counts = new Map<string, number>();
        for (const stream of this.streams.values()) {
          counts.set(stream.transportName, (counts.get(stream.transportName) ?? 0) + 1);
        }
        for (const [transport, n] of counts) gauge.set({ transport }, n);
      },
    );
    this.heartbeat = setInterval(() => this.beat(), this.heartbeatMs);
    this.heartbeat.unref();
    this.presenceTimer = setInterval(() => void this.reportPresence(), PRESENCE_EVERY_MS);
    this.presenceTimer.unref();
    void this.reportPresence();
    this.removeReconnectListener = this.pubsub.onReconnect(() => {
      // Whatever was published meanwhile is read from PostgreSQL, and whatever was revoked meanwhile ends.
      for (const stream of this.streams.values()) {
        stream.catchUp().catch((e: Error) => this.logger.warn(`catch-up failed: ${e.message}`));
      }
      void this.verify();
    });
  }

  get size(): number {
    return this.streams.size;
  }

  private get heartbeatMs(): number {
    return this.config.sseHeartbeatSeconds * 1000;
  }

  /**
   * Takes over an authenticated connection and turns it into an agent stream. Refused with 429 when the client
   * address holds `MAX_STREAMS_PER_IP` streams; the oldest streams of the credential beyond
   * `MAX_STREAMS_PER_TOKEN` are replaced (wherever they are in the cluster). With Redis away the caps are not
   * enforced (the stream is served, and logged).
   */
  async open(
    principal: AgentPrincipal,
    transport: StreamTransport,
    clientAddress: string,
    lastEventId: number | null,
  ): Promise<void> {
    const id = this.slots.newId();
    const credential = principal.sessionId
      ? `s:${principal.sessionId}`
      : principal.apiKeyId
        ? `k:${principal.apiKeyId}`
        : `a:${principal.accountId}`;
    const slot = this.slots.slot(id, credential, clientAddress);
    const replaced = await this.claim(slot);
    if (transport.isGone) {
      // The client went away while its place was claimed: give the place back, there is no stream to run.
      if (replaced) this.releaseSlot(slot);
      return;
    }

    transport.open();
    this.metrics.streamsOpened.inc({ transport: transport.name });
    const stream = new AgentStream(this.ctx, transport, principal, lastEventId, id);
    stream.slot = replaced ? slot : null;
    this.streams.set(id, stream);
    this.presenceChanged();
    transport.onGone(stream);
    if (replaced && replaced.length > 0) this.replace(principal, replaced);
    try {
      await stream.start();
    } catch (e) {
      this.logger.warn(`stream start failed: ${(e as Error).message}`);
      stream.close('failed');
    }
  }

  /** The stream ids this claim replaced; null when Redis could not be asked. Throws 429 past the address cap. */
  private async claim(slot: StreamSlot): Promise<string[] | null> {
    let result;
    try {
      result = await this.slots.claim(
        slot,
        { perCredential: this.config.maxStreamsPerToken, perAddress: this.config.maxStreamsPerIp },
        this.heartbeatMs,
      );
    } catch (e) {
      this.logger.warn(`stream caps unavailable: ${(e as Error).message}`);
      return null;
    }
    if (!result.allowed) {
      this.metrics.streamsRefused.inc();
      throw new TooManyStreamsError(this.config.maxStreamsPerIp, this.config.sseHeartbeatSeconds);
    }
    return result.replaced;
  }

  /** Ends the replaced streams: at once when they are here, through their credential's channel elsewhere. */
  private replace(principal: AgentPrincipal, ids: string[]): void {
    for (const id of ids) this.streams.get(id)?.replace();
    const envelope = { kind: 'stream_replaced' as const, streamIds: ids };
    const sent = principal.sessionId
      ? this.publisher.toSession(principal.sessionId, envelope)
      : this.publisher.toAccount(principal.accountId as string, envelope);
    // A lost message is healed by the next heartbeat: the replaced stream finds its slot gone.
    sent.catch((e: Error) => this.logger.warn(`could not announce replaced streams: ${e.message}`));
  }

  /**
   * The `message` event of a live message in `format`, made once per process (its id is the sequence number).
   * The data is serialised once whatever the formats (`messageEventJson`); each format frames it once.
   */
  private messageFrame(format: EventFormat, seq: number, data: MessageEventData): string {
    let frames = this.frames.get(format);
    if (!frames) this.frames.set(format, (frames = new WeakMap()));
    let frame = frames.get(data);
    if (frame === undefined) {
      frame = format.frame(seq, 'message', this.eventJson(data, messageEventJson));
      frames.set(data, frame);
    }
    return frame;
  }

  private eventJson<T extends object>(data: T, serialise: (data: T) => string = JSON.stringify): string {
    let json = this.json.get(data);
    if (json === undefined) {
      json = serialise(data);
      this.metrics.streamEventSerializations.inc();
      this.json.set(data, json);
    }
    return json;
  }

  private onClosed(stream: AgentStream, reason: StreamCloseReason): void {
    this.streams.delete(stream.id);
    if (reason !== 'client') this.metrics.streamsClosed.inc({ reason });
    if (stream.slot) this.releaseSlot(stream.slot);
    this.presenceChanged();
  }

  private beat(): void {
    for (const stream of this.streams.values()) stream.ping();
    void this.verify();
  }

  /**
   * Re-checks every stream of this process in a few batched round trips: its slot (gone = replaced by a newer
   * stream of its credential), its session (disconnected, expired, deleted — or paired while the stream never
   * heard of it), its account relay token (rotated or the account deleted), its API key (revoked). Runs on every heartbeat and after
   * the subscriber reconnects.
   */
  verify(): Promise<void> {
    this.verifying ??= this.verifyAll()
      .catch((e: Error) => this.logger.warn(`stream re-check failed: ${e.message}`))
      .finally(() => (this.verifying = null));
    return this.verifying;
  }

  private async verifyAll(): Promise<void> {
    const streams = [...this.streams.values()];
    if (streams.length === 0) return;
    await Promise.all([
      this.verifySlots(streams),
      this.verifySessions(streams),
      this.verifyAccounts(streams),
      this.verifyApiKeys(streams),
    ]);
  }

  private async verifySlots(streams: AgentStream[]): Promise<void> {
    const slotted = streams.filter((s) => s.slot);
    const gone = await this.slots.refresh(
      slotted.map((s) => s.slot as StreamSlot),
      this.heartbeatMs,
    );
    for (const stream of slotted) {
      if (gone.has(stream.id)) stream.replace();
      // Closed while the refresh was on its way: the refresh may have put its entries back after the release.
      else if (stream.isClosed) this.releaseSlot(stream.slot as StreamSlot);
    }
  }

  private releaseSlot(slot: StreamSlot): void {
    this.slots.release(slot).catch((e: Error) => {
      this.logger.debug(`stream slot release failed (it goes stale): ${e.message}`);
    });
  }

  private async verifySessions(streams: AgentStream[]): Promise<void> {
    const withSession = streams.filter((s) => s.sessionId);
    if (withSession.length === 0) return;
    const states = await this.sessions.findStates([
      ...new Set(withSession.map((s) => s.sessionId as string)),
    ]);
    for (const stream of withSession) {
      if (stream.isClosed) continue;
      const state = states.get(stream.sessionId as string);
      const expired = state?.status === 'expired' || (!!state && this.expiry.hasLapsed(state));
      if (!state || state.status === 'disconnected') stream.revoke('disconnected');
      else if (expired) stream.revoke('expired');
      else if (state.status === 'paired' && !stream.accountId && state.accountId) {
        stream.adoptPairing({
          accountId: state.accountId,
          kakaoUserId: state.kakaoUserId ?? '',
          conversationKey: state.conversationKey ?? '',
          pairedAt: (state.pairedAt ?? this.clock.date()).toISOString(),
        });
      }
    }
  }

  private async verifyAccounts(streams: AgentStream[]): Promise<void> {
    const withToken = streams.filter((s) => s.kind === 'account' && s.accountId);
    if (withToken.length === 0) return;
    const hashes = await this.accounts.findRelayTokenHashes([
      ...new Set(withToken.map((s) => s.accountId as string)),
    ]);
    for (const stream of withToken) {
      if (!stream.isClosed && hashes.get(stream.accountId as string) !== stream.tokenHash) {
        stream.revoke('disconnected');
      }
    }
  }

  /** Streams opened with an API-key token: their key revoked (deleted) or the account gone → close. */
  private async verifyApiKeys(streams: AgentStream[]): Promise<void> {
    const withKey = streams.filter((s) => s.apiKeyId);
    if (withKey.length === 0) return;
    const live = await this.apiKeys.findAccounts([...new Set(withKey.map((s) => s.apiKeyId as string))]);
    for (const stream of withKey) {
      if (!stream.isClosed && live.get(stream.apiKeyId as string) !== stream.accountId) {
        stream.revoke('disconnected');
      }
    }
  }

  /** Reports the new stream count soon (debounced), so the overview is current without a write per change. */
  private presenceChanged(): void {
    if (this.presenceSoon || this.stopping) return;
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
    this.stopping = true;
    if (this.presenceSoon) clearTimeout(this.presenceSoon);
    for (const stream of [...this.streams.values()]) stream.close('shutdown');
    await Promise.all([this.marker.flush(), this.presence.withdraw().catch(() => undefined)]);
  }
}
