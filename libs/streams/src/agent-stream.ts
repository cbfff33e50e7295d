import type {
  ChannelEnvelope,
  ChannelHandler,
  MessageEventData,
  PairingCompleteData,
  StreamSlot,
} from '@app/messaging';
import { messageEventData, messageEventJson } from '@app/messaging';
import type { ReplayRange, ReplayStart, StoredMessage } from '@app/core';
import type { AgentPrincipal } from '@app/pairing';
import type { EventFormat, StreamCloseReason, StreamHandle, StreamTransport } from './stream-transport';

/** What a stream needs from the hub: storage reads, subscriptions, shared serialisation and lifecycle hooks. */
export interface StreamContext {
  subscribeAccount(accountId: string, handler: ChannelHandler): Promise<() => void>;
  subscribeSession(sessionId: string, handler: ChannelHandler): Promise<() => void>;
  replayStart(accountId: string, lastEventId: number | null): Promise<ReplayStart | null>;
  /** One page (bounded in rows and bytes) of owed messages, oldest first. */
  replayPage(accountId: string, range: ReplayRange): Promise<StoredMessage[]>;
  seqRange(accountId: string, fromExclusive: number, toInclusive: number): Promise<StoredMessage[]>;
  /** The `message` event of a live message in `format`, made once per process for every stream that writes it. */
  messageFrame(format: EventFormat, seq: number, data: MessageEventData): string;
  /** The JSON of a shared event's data, serialised once per process. */
  eventJson(data: object): string;
  markDelivered(accountId: string, seq: number): void;
  /** Milliseconds since the epoch (the `Clock` port). */
  now(): number;
  /** Re-checks a pending session at its expiry instant; true when it is now expired. */
  sessionExpired(sessionId: string): Promise<boolean>;
  onClosed(stream: AgentStream, reason: StreamCloseReason): void;
  warn(message: string): void;
  /** Unsent bytes a stream may hold before it is closed as a slow consumer. */
  readonly maxBufferBytes: number;
}

/** How long a stream waits for a missing sequence number before fetching it from PostgreSQL. */
export const GAP_WAIT_MS = 150;
/** The most sequence numbers one gap fill reads; a larger gap is read in several steps. */
const GAP_FILL_MAX = 256;
/** Live events held while a replay is written; beyond this they are dropped and read back from PostgreSQL. */
const HELD_MAX = 1024;
/** A replay (or catch-up) waits for the client to read before its next page once this much is unsent. */
const REPLAY_HIGH_WATER = 64 * 1024;
/** Sequence numbers have no upper bound in a catch-up. */
const NO_UPPER_BOUND = Number.MAX_SAFE_INTEGER;

/**
 * One agent connection, whatever its transport. Message events are written strictly in sequence order, each once: `cursor` is the
 * highest sequence number settled for this stream (written, or deliberately not replayed), live events at or
 * below it are duplicates, events ahead of a gap wait briefly and then the gap is read from PostgreSQL.
 * Non-message events carry the last message id written so that `Last-Event-ID` always means "seen up to".
 *
 * Memory is bounded whatever the client does: replays and catch-ups are read a page at a time and the next page
 * waits until the client has read the previous one; live events held during a replay are capped; and a stream
 * whose unsent data passes `maxBufferBytes` is closed (the agent resumes with `Last-Event-ID` and loses nothing).
 */
export class AgentStream implements StreamHandle {
  accountId: string | null;
  readonly sessionId: string | null;
  readonly kind: AgentPrincipal['kind'];
  readonly tokenHash: string | null;
  /** The API key of a stream opened with an API-key token (`api_token`): re-checked like a relay token. */
  readonly apiKeyId: string | null;
  /** Set by the hub when the stream holds a cluster-wide slot (see `StreamSlots`). */
  slot: StreamSlot | null = null;
  private status: 'pending_pairing' | 'paired';
  private cursor = 0;
  private lastId = 0;
  private pending: Map<number, MessageEventData> | null = null;
  private gapTimer: NodeJS.Timeout | null = null;
  private filling = false;
  /** Live envelopes that arrived while attaching; null once live. */
  private held: ChannelEnvelope[] | null = [];
  private heldOverflow = false;
  private catchingUp: Promise<void> | null = null;
  private unsubscribeSession: (() => void) | null = null;
  private unsubscribeAccount: (() => void) | null = null;
  private expiryTimer: NodeJS.Timeout | null = null;
  private closed = false;
  /** One handler for both of the stream's channels. */
  private readonly channelHandler: ChannelHandler = (_message, json) => this.onChannel(json);
  /** Whether an event was written: `connected` comes first (§4), so no ping goes out before it. */
  private greeted = false;

  constructor(
    private readonly ctx: StreamContext,
    private readonly transport: StreamTransport,
    principal: AgentPrincipal,
    private readonly lastEventId: number | null,
    readonly id: string,
  ) {
    this.accountId = principal.accountId;
    this.sessionId = principal.sessionId;
    this.kind = principal.kind;
    // Only a relay-token stream re-checks its token (sessions are re-checked by id): no hash held otherwise.
    this.tokenHash = principal.kind === 'account' ? principal.tokenHash : null;
    this.apiKeyId = principal.kind === 'api_token' ? (principal.apiKeyId ?? null) : null;
    this.status = principal.status;
    if (principal.status === 'pending_pairing' && principal.expiresAt) {
      const delay = Math.max(0, principal.expiresAt.getTime() - ctx.now()) + 5;
      this.expiryTimer = setTimeout(() => void this.checkExpiry(), delay);
    } else if (principal.kind === 'api_token' && principal.expiresAt) {
      // The token's `exp` is absolute and signed: the stream ends then, as a pending session's does.
      const delay = Math.max(0, principal.expiresAt.getTime() - ctx.now());
      this.expiryTimer = setTimeout(() => {
        this.expiryTimer = null;
        this.revoke('expired');
      }, delay);
    }
  }

  /** The transport's name (metrics). */
  get transportName(): string {
    return this.transport.name;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Subscribes, reads where the replay starts, writes `connected` and the replay page by page, then goes live. */
  async start(): Promise<void> {
    if (this.sessionId) {
      const unsubscribe = await this.ctx.subscribeSession(this.sessionId, this.channelHandler);
      if (this.closed) return unsubscribe();
      this.unsubscribeSession = unsubscribe;
    }
    const replay = this.accountId ? await this.attach(this.accountId, this.lastEventId) : null;
    if (this.closed) return;
    this.lastId = this.idBefore(replay, this.lastEventId);
    this.write(this.lastId, 'connected', {
      accountId: this.accountId,
      sessionId: this.sessionId,
      status: this.status,
    });
    await this.replay(replay);
    await this.release();
  }

  /**
   * The heartbeat. Not before the first event: the hub pings every stream it holds, this one included while it is
   * still subscribing and reading where its replay starts.
   */
  ping(): void {
    // Only on a connection with nothing unsent: bytes already on their way keep it alive as well, and a ping
    // queued behind a replay page that is still being read must not count the stream as a slow consumer.
    if (this.greeted && this.transport.unsentBytes === 0) this.writeFrame(this.transport.format.ping);
  }

  /** Ends the stream (the client went away, or the relay ends it for `reason`). */
  close(reason: StreamCloseReason = 'client'): void {
    if (this.closed) return;
    this.closed = true;
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    if (this.gapTimer) clearTimeout(this.gapTimer);
    this.unsubscribeSession?.();
    this.unsubscribeAccount?.();
    this.unsubscribeSession = this.unsubscribeAccount = null;
    this.pending = null;
    this.held = null;
    if (reason === 'slow_consumer') this.transport.destroy();
    else this.transport.end(reason);
    this.ctx.onClosed(this, reason);
  }

  /** The client confirms messages up to `seq`; never beyond what this stream wrote (see `StreamHandle`). */
  acknowledge(seq: number): number {
    const upTo = Math.min(seq, this.lastId);
    if (this.closed || !this.accountId || upTo <= 0) return 0;
    this.ctx.markDelivered(this.accountId, upTo);
    return upTo;
  }

  /** A newer stream of the same credential took this one's place (MAX_STREAMS_PER_TOKEN). */
  replace(): void {
    this.write(this.lastId, 'error', {
      code: 'STREAM_REPLACED',
      message: 'A newer stream opened with this token replaced this one.',
    });
    this.close('replaced');
  }

  /** The credential is no longer valid (found when re-checked; the Pub/Sub message that said so was lost). */
  revoke(reason: 'expired' | 'unpaired' | 'disconnected'): void {
    this.write(this.lastId, 'pairing_expired', { reason });
    this.close(reason === 'expired' ? 'expired' : 'revoked');
  }

  /** The session was paired but this stream never heard of it (a lost `pairing_complete`): attach now. */
  adoptPairing(data: PairingCompleteData): void {
    this.onEnvelope({ kind: 'pairing_complete', data });
  }

  /** After a Redis outage (or when held live events were dropped): reads what was published meanwhile. */
  catchUp(): Promise<void> {
    if (this.closed || !this.accountId || this.held) return Promise.resolve();
    this.catchingUp ??= this.readForward().finally(() => (this.catchingUp = null));
    return this.catchingUp;
  }

  private async readForward(): Promise<void> {
    const accountId = this.accountId as string;
    const forward = (afterSeq: number): ReplayRange => ({
      afterSeq,
      upToSeq: NO_UPPER_BOUND,
      includeDelivered: true,
    });
    const first = await this.ctx.replayPage(accountId, forward(this.cursor));
    await this.writePages(accountId, first, forward, (row) =>
      this.onLiveMessage(row.seq, messageEventData(row)),
    );
  }

  private async attach(
    accountId: string,
    lastEventId: number | null,
  ): Promise<{ start: ReplayStart; first: StoredMessage[] } | null> {
    const unsubscribe = await this.ctx.subscribeAccount(accountId, this.channelHandler);
    if (this.closed) {
      unsubscribe();
      return null;
    }
    this.unsubscribeAccount = unsubscribe;
    const start = await this.ctx.replayStart(accountId, lastEventId);
    if (!start) return null;
    this.cursor = Math.max(this.cursor, start.lastSeq);
    // Nothing owed (the usual reconnect): no page to read.
    const first =
      start.floor >= start.lastSeq
        ? []
        : await this.ctx.replayPage(accountId, this.range(start, start.floor));
    return { start, first };
  }

  private range(start: ReplayStart, afterSeq: number): ReplayRange {
    return { afterSeq, upToSeq: start.lastSeq, includeDelivered: start.includeDelivered };
  }

  /** The id of the event that precedes a replay: "everything before this was seen (or is not owed)". */
  private idBefore(
    replay: { start: ReplayStart; first: StoredMessage[] } | null,
    lastEventId: number | null,
  ): number {
    if (!replay) return lastEventId ?? 0;
    const { start, first } = replay;
    let id = lastEventId !== null ? Math.min(lastEventId, start.lastSeq) : start.lastSeq;
    if (first.length > 0) id = Math.min(id, first[0].seq - 1);
    return Math.max(0, id);
  }

  /** Writes the replay a page at a time; each next page waits until the client read the previous one. */
  private async replay(replay: { start: ReplayStart; first: StoredMessage[] } | null): Promise<void> {
    if (!replay || !this.accountId) return;
    await this.writePages(
      this.accountId,
      replay.first,
      (afterSeq) => this.range(replay.start, afterSeq),
      (message) => this.emitMessage(message.seq, messageEventData(message), false, true),
    );
  }

  /**
   * Hands owed messages to `write` page by page, from `first` on: the next page is read after the last one's
   * highest sequence number, once the client has read what was written (`drained`), until a page comes empty.
   */
  private async writePages(
    accountId: string,
    first: StoredMessage[],
    range: (afterSeq: number) => ReplayRange,
    write: (message: StoredMessage) => void,
  ): Promise<void> {
    let page = first;
    while (!this.closed && page.length > 0) {
      for (const message of page) write(message);
      const after = page[page.length - 1].seq;
      page = []; // not held while the client reads
      if (!(await this.drained())) return;
      page = await this.ctx.replayPage(accountId, range(after));
    }
  }

  /** Resolves true once the unsent data is below the replay's high-water mark, false if the stream closed. */
  private async drained(): Promise<boolean> {
    if (this.closed) return false;
    return (await this.transport.drained(REPLAY_HIGH_WATER)) && !this.closed;
  }

  /** Processes what arrived on the channels while the stream was attaching, then goes live. */
  private async release(): Promise<void> {
    const held = this.held ?? [];
    const overflow = this.heldOverflow;
    this.held = null;
    this.heldOverflow = false;
    for (const envelope of held) this.onEnvelope(envelope);
    if (overflow) await this.catchUp();
  }

  /** `json` parses the channel message once for every stream of this process (see `PubSubService`). */
  private onChannel(json: () => unknown): void {
    if (this.closed) return;
    let envelope: ChannelEnvelope;
    try {
      envelope = json() as ChannelEnvelope;
    } catch {
      this.ctx.warn('dropping an unparseable channel message');
      return;
    }
    if (!this.held) return this.onEnvelope(envelope);
    if (envelope.kind === 'stream_replaced') return this.onEnvelope(envelope);
    if (this.held.length < HELD_MAX) this.held.push(envelope);
    else if (envelope.kind === 'message') this.heldOverflow = true;
  }

  private onEnvelope(envelope: ChannelEnvelope): void {
    if (this.closed) return;
    switch (envelope.kind) {
      case 'message':
        this.onLiveMessage(envelope.seq, envelope.data);
        break;
      case 'pairing_complete':
        void this.onPaired(envelope.data).catch((e: Error) => {
          this.ctx.warn(`stream could not attach after pairing: ${e.message}`);
          this.close('failed');
        });
        break;
      case 'pairing_expired':
        if (envelope.scope === 'account_token' && this.kind !== 'account') break;
        if (envelope.scope === 'api_key' && (!this.apiKeyId || envelope.apiKeyId !== this.apiKeyId)) break;
        this.writeShared(this.lastId, 'pairing_expired', envelope.data);
        this.close(envelope.data.reason === 'expired' ? 'expired' : 'revoked');
        break;
      case 'error':
        this.writeShared(this.lastId, 'error', envelope.data);
        break;
      case 'stream_replaced':
        if (envelope.streamIds.includes(this.id)) this.replace();
        break;
    }
  }

  private async onPaired(data: PairingCompleteData): Promise<void> {
    if (this.accountId) return;
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    this.expiryTimer = null;
    this.accountId = data.accountId;
    this.status = 'paired';
    this.held = [];
    const replay = await this.attach(data.accountId, null);
    if (this.closed) return;
    this.lastId = this.idBefore(replay, null);
    this.writeShared(this.lastId, 'pairing_complete', data);
    await this.replay(replay);
    await this.release();
  }

  private onLiveMessage(seq: number, data: MessageEventData): void {
    if (seq <= this.cursor) return; // already written or replayed
    if (seq === this.cursor + 1) {
      this.emitMessage(seq, data, true);
      this.drain();
      return;
    }
    (this.pending ??= new Map()).set(seq, data);
    if (!this.gapTimer && !this.filling) this.gapTimer = setTimeout(() => void this.fillGap(), GAP_WAIT_MS);
  }

  private drain(): void {
    while (this.pending?.has(this.cursor + 1)) {
      const seq = this.cursor + 1;
      const data = this.pending.get(seq) as MessageEventData;
      this.pending.delete(seq);
      this.emitMessage(seq, data, true);
    }
    if (this.pending && this.pending.size === 0) this.pending = null;
  }

  /** A sequence number stayed missing: read the gap from PostgreSQL (the source of truth) and move on. */
  private async fillGap(): Promise<void> {
    this.gapTimer = null;
    if (this.closed || !this.accountId || !this.pending || this.pending.size === 0) return;
    this.filling = true;
    const upTo = Math.min(Math.max(...this.pending.keys()), this.cursor + GAP_FILL_MAX);
    try {
      const rows = await this.ctx.seqRange(this.accountId, this.cursor, upTo);
      for (const row of rows) {
        if (!this.pending) return;
        const live = this.pending.get(row.seq);
        this.emitMessage(row.seq, live ?? messageEventData(row), live !== undefined);
      }
      // Whatever is still missing up to `upTo` is gone (expired or deleted): skip it.
      if (this.pending) {
        for (const seq of [...this.pending.keys()]) {
          if (seq <= upTo) {
            if (seq > this.cursor) this.emitMessage(seq, this.pending.get(seq) as MessageEventData, true);
            this.pending.delete(seq);
          }
        }
        this.cursor = Math.max(this.cursor, upTo);
      }
    } catch (e) {
      this.ctx.warn(`gap fill failed: ${(e as Error).message}`);
    } finally {
      this.filling = false;
    }
    this.drain();
    if (this.pending && this.pending.size > 0 && !this.gapTimer) {
      this.gapTimer = setTimeout(() => void this.fillGap(), GAP_WAIT_MS);
    }
  }

  /** `shared`: the data came over Pub/Sub and other streams of this process write the very same event. */
  private emitMessage(seq: number, data: MessageEventData, shared = false, paced = false): void {
    if (this.closed || seq <= this.lastId) return; // ids never go backwards on one stream
    const format = this.transport.format;
    this.writeFrame(
      shared
        ? this.ctx.messageFrame(format, seq, data)
        : format.frame(seq, 'message', messageEventJson(data)),
      paced,
    );
    if (this.closed) return;
    this.cursor = Math.max(this.cursor, seq);
    this.lastId = seq;
    if (this.accountId) this.ctx.markDelivered(this.accountId, seq);
  }

  private write(id: number, event: string, data: unknown): void {
    this.writeFrame(this.transport.format.frame(id, event, JSON.stringify(data)));
  }

  /** An event whose data object other streams of this process write too: its JSON is made once. */
  private writeShared(id: number, event: string, data: object): void {
    this.writeFrame(this.transport.format.frame(id, event, this.ctx.eventJson(data)));
  }

  /**
   * Writes an event. What is written unpaced (live events, pings) is checked against the slow-consumer limit
   * first: a stream still holding more than `maxBufferBytes` unsent is closed instead (so it holds at most that
   * plus one event). Replay pages are paced by `drained()` and bounded by the page size already.
   */
  private writeFrame(frame: string, paced = false): void {
    if (this.closed) return;
    const unsent = this.transport.unsentBytes;
    if (!paced && unsent > this.ctx.maxBufferBytes) {
      this.ctx.warn(`closing a stream that does not read (${unsent} bytes unsent)`);
      this.close('slow_consumer');
      return;
    }
    this.transport.write(frame);
    this.greeted = true;
  }

  private async checkExpiry(): Promise<void> {
    this.expiryTimer = null;
    if (this.closed || !this.sessionId || this.accountId) return;
    try {
      if (await this.ctx.sessionExpired(this.sessionId)) this.revoke('expired');
    } catch (e) {
      this.ctx.warn(`expiry check failed: ${(e as Error).message}`);
      this.expiryTimer = setTimeout(() => void this.checkExpiry(), 1000);
    }
  }
}
