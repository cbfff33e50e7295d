import type { Request, Response } from 'express';
import type { EventFormat, StreamTransport } from '@app/streams';
import { formatSseEventJson, SSE_PING } from './sse-format';

/** SSE framing (contract §4). */
export const SSE_FORMAT: EventFormat = { frame: formatSseEventJson, ping: SSE_PING };

const SSE_HEAD = [
  'Content-Type',
  'text/event-stream',
  'Cache-Control',
  'no-cache',
  'Connection',
  'keep-alive',
  'X-Accel-Buffering',
  'no',
];

/** The stream each open response belongs to: one shared 'close' listener instead of a closure per stream. */
const STREAM_OF = new WeakMap<Response, { close(): void }>();
function onResponseClosed(this: Response): void {
  STREAM_OF.get(this)?.close();
}

/** `GET /v1/events`: an agent stream on an HTTP response held open. */
export class SseTransport implements StreamTransport {
  readonly name = 'sse';
  readonly format = SSE_FORMAT;

  constructor(
    private readonly req: Request,
    private readonly res: Response,
  ) {}

  get unsentBytes(): number {
    return this.res.writableLength;
  }

  get isGone(): boolean {
    return this.res.destroyed || this.req.socket.destroyed;
  }

  open(): void {
    const socket = this.req.socket;
    socket.setTimeout(0);
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 60_000);
    // One flat array for the head: nothing per header is kept for the stream's life.
    this.res.writeHead(200, SSE_HEAD);
    this.res.flushHeaders();
  }

  /**
   * Written as UTF-8 bytes, not as the string: until the client has read it, Node keeps a string write twice —
   * the string itself (two bytes a character once the text holds any non-Latin-1 character, as Korean does) and a
   * copy sized for the worst case of three bytes a character. A 1.8 MB event to a client that does not read held
   * 9 MB; as bytes it holds 1.8 MB, and `unsentBytes` counts bytes, not characters.
   */
  write(frame: string): void {
    this.res.write(Buffer.from(frame, 'utf8'));
  }

  drained(highWater: number): Promise<boolean> {
    const res = this.res;
    if (res.destroyed) return Promise.resolve(false);
    if (res.writableLength <= highWater) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = () => {
        res.off('drain', done);
        res.off('close', done);
        resolve(!res.destroyed && !res.writableEnded);
      };
      res.on('drain', done);
      res.on('close', done);
    });
  }

  onGone(stream: { close(): void }): void {
    STREAM_OF.set(this.res, stream);
    this.res.once('close', onResponseClosed);
  }

  end(): void {
    if (!this.res.writableEnded) this.res.end();
  }

  destroy(): void {
    this.res.destroy();
  }
}
