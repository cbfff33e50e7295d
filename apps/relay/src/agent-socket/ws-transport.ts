import type { Duplex } from 'node:stream';
import { WebSocket } from 'ws';
import type { StreamCloseReason, StreamHandle, StreamTransport } from '@app/streams';
import { CLOSE, closeCodeFor, SOCKET_FORMAT, SOCKET_PING } from './agent-socket-format';

/** Pings a client may leave unanswered; at the next one it is dropped (websocket.md §1: "misses two"). */
export const MISSED_PONGS_MAX = 2;
/** A too-slow client gets its 4408 close frame behind what it has not read; if it still reads nothing, it goes. */
export const SLOW_CLOSE_GRACE_MS = 3000;

const CLOSE_REASONS: Record<number, string> = {
  [CLOSE.tokenInvalid]: 'token no longer valid',
  [CLOSE.tooSlow]: 'too slow',
  [CLOSE.tooManyStreams]: 'too many streams',
  [CLOSE.goingAway]: 'relay shutting down',
  [CLOSE.internal]: 'stream failed',
};

/**
 * `GET /v1/ws`: an agent stream on a WebSocket (`ws`). Unsent bytes are the socket's `bufferedAmount`, drained
 * is the TCP socket's `drain`; the heartbeat is a protocol ping, and a client that left `MISSED_PONGS_MAX` of them
 * unanswered (no pong, no frame) is dropped at the next. The delivery core's reasons become close codes
 * (`closeCodeFor`).
 */
export class WsTransport implements StreamTransport {
  readonly name = 'ws';
  readonly format = SOCKET_FORMAT;
  /** The stream this socket carries, once the hub started it (for `ack`). */
  stream: StreamHandle | null = null;
  private unanswered = 0;

  constructor(
    private readonly socket: WebSocket,
    /** The TCP socket under it (the upgrade request's), for `drain`. */
    private readonly raw: Duplex,
  ) {}

  get unsentBytes(): number {
    return this.socket.bufferedAmount;
  }

  get isGone(): boolean {
    return this.socket.readyState !== WebSocket.OPEN;
  }

  open(): void {
    // Upgraded already: nothing to start.
  }

  write(frame: string): void {
    if (frame === SOCKET_PING) return this.ping();
    // As UTF-8 bytes in a text frame, for the reason `SseTransport.write` gives: `ws` would write the string as is.
    if (!this.isGone) this.socket.send(Buffer.from(frame, 'utf8'), { binary: false });
  }

  /** The client answered a ping or sent a frame: it is there. */
  alive(): void {
    this.unanswered = 0;
  }

  private ping(): void {
    if (this.isGone) return;
    if (this.unanswered >= MISSED_PONGS_MAX) {
      this.socket.terminate();
      return;
    }
    this.unanswered++;
    this.socket.ping();
  }

  drained(highWater: number): Promise<boolean> {
    if (this.isGone) return Promise.resolve(false);
    if (this.unsentBytes <= highWater) return Promise.resolve(true);
    const raw = this.raw;
    return new Promise((resolve) => {
      const done = () => {
        raw.off('drain', done);
        raw.off('close', done);
        resolve(!this.isGone);
      };
      raw.on('drain', done);
      raw.on('close', done);
    });
  }

  onGone(stream: StreamHandle): void {
    this.stream = stream;
    this.socket.once('close', () => stream.close());
  }

  end(reason: StreamCloseReason): void {
    this.close(closeCodeFor(reason));
  }

  /** Too slow: the close frame goes behind the unsent data; a client that reads none of it is cut off. */
  destroy(): void {
    this.close(CLOSE.tooSlow);
    const socket = this.socket;
    const timer = setTimeout(() => socket.terminate(), SLOW_CLOSE_GRACE_MS);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  }

  /** Closes with `code` (a no-op once closing). */
  close(code: number): void {
    if (this.socket.readyState === WebSocket.OPEN) this.socket.close(code, CLOSE_REASONS[code] ?? '');
  }
}
