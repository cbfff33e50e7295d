/**
 * How events are framed on one kind of connection. The data is serialised to JSON once per process (shared by
 * every stream that writes the same event); a format only wraps it.
 */
export interface EventFormat {
  /** One event: its id (a message's sequence number, else the last one written), its name, its JSON data. */
  frame(id: number, event: string, json: string): string;
  /** The heartbeat, which carries no id. */
  readonly ping: string;
}

/** Why the relay ended a stream (metrics, and a transport's close code); `client` when the agent went away. */
export type StreamCloseReason =
  'client' | 'replaced' | 'slow_consumer' | 'revoked' | 'expired' | 'shutdown' | 'failed';

/** What a transport may ask of the stream it carries. */
export interface StreamHandle {
  /** Ends the stream (the client went away). */
  close(): void;
  /**
   * The client confirms it has every message up to `seq` (a WebSocket `ack`): recorded as delivered, up to the
   * last message written on this stream at most. Returns that recorded sequence number (0: nothing to record).
   */
  acknowledge(seq: number): number;
}

/**
 * One agent connection as the delivery core sees it (`AgentStream`): somewhere to write framed events, how much
 * of that the client has not taken yet, and how to end it. SSE (apps/relay/src/events) and WebSocket
 * (apps/relay/src/agent-socket) implement it, push deliveries will too, so ordering, replay, exactly-once, pacing
 * and the slow-consumer limit live once, in `AgentStream`.
 */
export interface StreamTransport {
  /** The transport's name in metrics (`sse`, `ws`). */
  readonly name: string;
  readonly format: EventFormat;
  /** Bytes written that the client has not read yet (what the slow-consumer limit and replay pacing watch). */
  readonly unsentBytes: number;
  /** The client went away (or the connection was ended). */
  readonly isGone: boolean;
  /** Starts the connection (status line and headers for SSE); called once the stream may run. */
  open(): void;
  write(frame: string): void;
  /** Resolves true once at most `highWater` bytes are unsent, false if the connection closed first. */
  drained(highWater: number): Promise<boolean>;
  /** Hands the transport its stream: it calls `stream.close()` once when the client goes away. */
  onGone(stream: StreamHandle): void;
  /** Ends the connection after what was written (a graceful end); `reason` says why (a WebSocket close code). */
  end(reason: StreamCloseReason): void;
  /** Drops the connection now, unsent data included (a client that does not read). */
  destroy(): void;
}
