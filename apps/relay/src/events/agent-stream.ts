import type { Response } from 'express';
import type { ChannelEnvelope, ChannelHandler, MessageEventData } from '@app/messaging';
import type { ReplaySnapshot, StoredMessage } from '@app/persistence';
import type { AgentPrincipal } from '../auth/agent-principal';
import { formatSseEvent, SSE_PING } from './sse-format';

/** What a stream needs from the hub: storage reads, subscriptions, delivery marking and lifecycle checks. */
export interface StreamContext {
  subscribeAccount(accountId: string, handler: ChannelHandler): Promise<() => void>;
  subscribeSession(sessionId: string, handler: ChannelHandler): Promise<() => void>;
  snapshot(accountId: string, afterSeq: number | null): Promise<ReplaySnapshot>;
  seqRange(accountId: string, fromExclusive: number, toInclusive: number): Promise<StoredMessage[]>;
  after(accountId: string, afterSeq: number): Promise<StoredMessage[]>;
  markDelivered(accountId: string, seq: number): void;
  /** Re-checks a pending session at its expiry instant; true when it is now expired. */
  sessionExpired(sessionId: string): Promise<boolean>;
  onClosed(stream: AgentStream): void;
  warn(message: string): void;
}

/** How long a stream waits for a missing sequence number before fetching it from PostgreSQL. */
export const GAP_WAIT_MS = 150;

export function messageEventData(message: StoredMessage): MessageEventData {
  return {
    id: message.id,
    conversationKey: message.conversationKey,
    kakaoPayload: message.kakaoPayload,
    normalized: message.normalized,
    createdAt: message.createdAt.toISOString(),
  };
}

/**
 * One agent connection. Message events are written strictly in sequence order, each once: `cursor` is the
 * highest sequence number settled for this stream (written, or deliberately not replayed), live events at or
 * below it are duplicates, events ahead of a gap wait briefly and then the gap is read from PostgreSQL.
 * Non-message events carry the last message id written so that `Last-Event-ID` always means "seen up to".
 */
export class AgentStream {
  accountId: string | null;
  readonly sessionId: string | null;
  private status: 'pending_pairing' | 'paired';
  private cursor = 0;
  private lastId = 0;
  private pending: Map<number, MessageEventData> | null = null;
  private gapTimer: NodeJS.Timeout | null = null;
  private filling = false;
  private held: ChannelEnvelope[] | null = [];
  private unsubscribers: Array<() => void> = [];
  private expiryTimer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    private readonly ctx: StreamContext,
    private readonly res: Response,
    principal: AgentPrincipal,
    private readonly lastEventId: number | null,
  ) {
    this.accountId = principal.accountId;
    this.sessionId = principal.sessionId;
    this.status = principal.status;
    if (principal.status === 'pending_pairing' && principal.expiresAt) {
      const delay = Math.max(0, principal.expiresAt.getTime() - Date.now()) + 5;
      this.expiryTimer = setTimeout(() => void this.checkExpiry(), delay);
    }
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Subscribes, takes the replay snapshot, writes `connected` and the replay, then goes live. */
  async start(): Promise<void> {
    if (this.sessionId) {
      this.unsubscribers.push(
        await this.ctx.subscribeSession(this.sessionId, (_m, json) => this.onChannel(json)),
      );
    }
    let snapshot: ReplaySnapshot | null = null;
    if (this.accountId) snapshot = await this.attach(this.accountId, this.lastEventId);
    if (this.closed) return;
    this.lastId = this.idBefore(snapshot, this.lastEventId);
    this.write(this.lastId, 'connected', {
      accountId: this.accountId,
      sessionId: this.sessionId,
      status: this.status,
    });
    this.replay(snapshot);
    this.release();
  }

  ping(): void {
    if (!this.closed) this.res.write(SSE_PING);
  }

  /** Ends the stream (shutdown, expiry, disconnect, or the client went away). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    if (this.gapTimer) clearTimeout(this.gapTimer);
    for (const unsubscribe of this.unsubscribers) unsubscribe();
    this.unsubscribers = [];
    this.pending = null;
    this.held = null;
    if (!this.res.writableEnded) this.res.end();
    this.ctx.onClosed(this);
  }

  /** After a Redis outage: whatever was published meanwhile is read from PostgreSQL. */
  async catchUp(): Promise<void> {
    if (this.closed || !this.accountId || this.held) return;
    const rows = await this.ctx.after(this.accountId, this.cursor);
    for (const row of rows) this.onLiveMessage(row.seq, messageEventData(row));
  }

  private async attach(accountId: string, afterSeq: number | null): Promise<ReplaySnapshot> {
    this.unsubscribers.push(await this.ctx.subscribeAccount(accountId, (_m, json) => this.onChannel(json)));
    const snapshot = await this.ctx.snapshot(accountId, afterSeq);
    this.cursor = Math.max(this.cursor, snapshot.lastSeq);
    return snapshot;
  }

  /** The id of the event that precedes a replay: "everything before this was seen (or is not owed)". */
  private idBefore(snapshot: ReplaySnapshot | null, lastEventId: number | null): number {
    if (!snapshot) return lastEventId ?? 0;
    let id = lastEventId !== null ? Math.min(lastEventId, snapshot.lastSeq) : snapshot.lastSeq;
    if (snapshot.messages.length > 0) id = Math.min(id, snapshot.messages[0].seq - 1);
    return Math.max(0, id);
  }

  private replay(snapshot: ReplaySnapshot | null): void {
    if (!snapshot) return;
    for (const message of snapshot.messages) this.emitMessage(message.seq, messageEventData(message));
  }

  /** Processes what arrived on the channels while the stream was attaching. */
  private release(): void {
    const held = this.held ?? [];
    this.held = null;
    for (const envelope of held) this.onEnvelope(envelope);
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
    if (this.held) this.held.push(envelope);
    else this.onEnvelope(envelope);
  }

  private onEnvelope(envelope: ChannelEnvelope): void {
    if (this.closed) return;
    switch (envelope.kind) {
      case 'message':
        this.onLiveMessage(envelope.seq, envelope.data);
        break;
      case 'pairing_complete':
        void this.onPaired(envelope).catch((e: Error) => {
          this.ctx.warn(`stream could not attach after pairing: ${e.message}`);
          this.close();
        });
        break;
      case 'pairing_expired':
        if (envelope.scope === 'account_token' && this.sessionId) break;
        this.write(this.lastId, 'pairing_expired', envelope.data);
        this.close();
        break;
      case 'error':
        this.write(this.lastId, 'error', envelope.data);
        break;
    }
  }

  private async onPaired(envelope: Extract<ChannelEnvelope, { kind: 'pairing_complete' }>): Promise<void> {
    if (this.accountId) return;
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    this.expiryTimer = null;
    this.accountId = envelope.data.accountId;
    this.status = 'paired';
    this.held = [];
    const snapshot = await this.attach(envelope.data.accountId, null);
    if (this.closed) return;
    this.lastId = this.idBefore(snapshot, null);
    this.write(this.lastId, 'pairing_complete', envelope.data);
    this.replay(snapshot);
    this.release();
  }

  private onLiveMessage(seq: number, data: MessageEventData): void {
    if (seq <= this.cursor) return; // already written or replayed
    if (seq === this.cursor + 1) {
      this.emitMessage(seq, data);
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
      this.emitMessage(seq, data);
    }
    if (this.pending && this.pending.size === 0) this.pending = null;
  }

  /** A sequence number stayed missing: read the gap from PostgreSQL (the source of truth) and move on. */
  private async fillGap(): Promise<void> {
    this.gapTimer = null;
    if (this.closed || !this.accountId || !this.pending || this.pending.size === 0) return;
    this.filling = true;
    const upTo = Math.max(...this.pending.keys());
    try {
      const rows = await this.ctx.seqRange(this.accountId, this.cursor, upTo);
      for (const row of rows) {
        if (!this.pending) return;
        this.emitMessage(row.seq, this.pending.get(row.seq) ?? messageEventData(row));
      }
      // Whatever is still missing up to `upTo` is gone (expired or deleted): skip it.
      if (this.pending) {
        for (const seq of [...this.pending.keys()]) {
          if (seq <= upTo) {
            if (seq > this.cursor) this.emitMessage(seq, this.pending.get(seq) as MessageEventData);
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

  private emitMessage(seq: number, data: MessageEventData): void {
    if (this.closed || seq <= this.lastId) return; // ids never go backwards on one stream
    this.write(seq, 'message', data);
    this.cursor = Math.max(this.cursor, seq);
    this.lastId = seq;
    if (this.accountId) this.ctx.markDelivered(this.accountId, seq);
  }

  private write(id: number, event: string, data: unknown): void {
    if (this.closed) return;
    this.res.write(formatSseEvent(id, event, data));
  }

  private async checkExpiry(): Promise<void> {
    this.expiryTimer = null;
    if (this.closed || !this.sessionId || this.accountId) return;
    try {
      if (await this.ctx.sessionExpired(this.sessionId)) {
        this.write(this.lastId, 'pairing_expired', { reason: 'expired' });
        this.close();
      }
    } catch (e) {
      this.ctx.warn(`expiry check failed: ${(e as Error).message}`);
      this.expiryTimer = setTimeout(() => void this.checkExpiry(), 1000);
    }
  }
}
