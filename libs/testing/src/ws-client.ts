import { WebSocket } from 'ws';
import type { SseEvent } from './sse-client';

export interface WsConnectOptions {
  token?: string;
  /** Sent as the first frame, `{"type":"resume","lastEventId":"N"}` (or as a header with `lastEventIdHeader`). */
  lastEventId?: string | number;
  /** Send `Last-Event-ID` as an upgrade header instead of the `resume` frame. */
  lastEventIdHeader?: boolean;
  /** Send no first frame at all (the relay then waits for one briefly). Default: a `resume` frame is sent. */
  noResume?: boolean;
  headers?: Record<string, string>;
  /** Answer the relay's pings (default true, as every WebSocket library does). */
  autoPong?: boolean;
}

export interface ReplyResultFrame {
  type: 'reply_result';
  requestId: string | null;
  status: number;
  body: Record<string, unknown>;
}

/**
 * A test client of the agent socket (`GET /v1/ws`) with the SSE client's interface: `events` holds every
 * `{"type":"event"}` frame as an `SseEvent` (`id`, `event`, `data` as JSON text, `raw` the frame), so delivery
 * tests run unchanged against both transports. Also: the upgrade's refusal (`status`, `body`), the close code,
 * `reply_result` frames, pings received.
 */
export class WsClient {
  readonly events: SseEvent[] = [];
  readonly frames: Array<Record<string, unknown>> = [];
  readonly replyResults: ReplyResultFrame[] = [];
  status = 0;
  headers: Record<string, string | string[] | undefined> = {};
  body = '';
  ended = false;
  closeCode: number | null = null;
  closeReason = '';
  pings = 0;
  private socket!: WebSocket;
  private waiters: Array<{ match: (e: SseEvent) => boolean; resolve: (e: SseEvent) => void; from: number }> =
    [];
  private endWaiters: Array<() => void> = [];
  private resultWaiters: Array<{ requestId: string | null; resolve: (r: ReplyResultFrame) => void }> = [];

  static async connect(baseUrl: string, options: WsConnectOptions = {}): Promise<WsClient> {
    const client = new WsClient();
    await client.open(baseUrl, options);
    return client;
  }

  get ws(): WebSocket {
    return this.socket;
  }

  private open(baseUrl: string, options: WsConnectOptions): Promise<void> {
    const url = new URL('/v1/ws', baseUrl);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.Authorization = `Bearer ${options.token}`;
    if (options.lastEventId !== undefined && options.lastEventIdHeader) {
      headers['Last-Event-ID'] = String(options.lastEventId);
    }
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, { headers, autoPong: options.autoPong ?? true });
      this.socket = socket;
      socket.on('upgrade', (res) => {
        this.status = res.statusCode ?? 0;
        this.headers = res.headers;
      });
      socket.on('unexpected-response', (_req, res) => {
        this.status = res.statusCode ?? 0;
        this.headers = res.headers;
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (this.body += chunk));
        res.on('end', () => {
          this.onEnd();
          resolve();
        });
        res.on('error', () => {
          this.onEnd();
          resolve();
        });
      });
      socket.on('open', () => {
        if (!options.noResume && !options.lastEventIdHeader) {
          const frame: Record<string, string> = { type: 'resume' };
          if (options.lastEventId !== undefined) frame.lastEventId = String(options.lastEventId);
          socket.send(JSON.stringify(frame));
        }
        resolve();
      });
      socket.on('message', (data) => this.onFrame(String(data)));
      socket.on('ping', () => this.pings++);
      socket.on('close', (code, reason) => {
        this.closeCode = code;
        this.closeReason = reason.toString();
        this.onEnd();
      });
      socket.on('error', (e) => {
        if (this.status === 0) reject(e);
        this.onEnd();
      });
    });
  }

  private onFrame(raw: string): void {
    const frame = JSON.parse(raw) as Record<string, unknown>;
    this.frames.push(frame);
    if (frame.type === 'reply_result') {
      const result = frame as unknown as ReplyResultFrame;
      this.replyResults.push(result);
      this.resultWaiters = this.resultWaiters.filter((w) => {
        if (w.requestId !== result.requestId) return true;
        w.resolve(result);
        return false;
      });
      return;
    }
    if (frame.type !== 'event') return;
    const event: SseEvent = {
      id: frame.id === '' ? undefined : String(frame.id),
      event: String(frame.event),
      data: JSON.stringify(frame.data),
      raw,
    };
    this.events.push(event);
    const index = this.events.length - 1;
    this.waiters = this.waiters.filter((w) => {
      if (index >= w.from && w.match(event)) {
        w.resolve(event);
        return false;
      }
      return true;
    });
  }

  private onEnd(): void {
    if (this.ended) return;
    this.ended = true;
    for (const w of this.endWaiters) w();
    this.endWaiters = [];
  }

  send(frame: unknown): void {
    this.socket.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** Sends a `reply` frame and waits for its `reply_result`. */
  reply(
    requestId: string,
    messageId: string,
    response: unknown,
    timeoutMs = 10000,
  ): Promise<ReplyResultFrame> {
    const result = this.waitForReplyResult(requestId, timeoutMs);
    this.send({ type: 'reply', requestId, messageId, response });
    return result;
  }

  waitForReplyResult(requestId: string | null, timeoutMs = 10000): Promise<ReplyResultFrame> {
    const existing = this.replyResults.find((r) => r.requestId === requestId);
    if (existing) return Promise.resolve(existing);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no reply_result for ${requestId}`)), timeoutMs);
      this.resultWaiters.push({
        requestId,
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
      });
    });
  }

  /** Events named `name` received so far, data parsed. */
  dataOf<T = Record<string, unknown>>(name: string): T[] {
    return this.events.filter((e) => e.event === name).map((e) => JSON.parse(e.data) as T);
  }

  waitFor(match: string | ((e: SseEvent) => boolean), timeoutMs = 5000, from = 0): Promise<SseEvent> {
    const fn = typeof match === 'string' ? (e: SseEvent) => e.event === match : match;
    const existing = this.events.slice(from).find(fn);
    if (existing) return Promise.resolve(existing);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done);
        reject(
          new Error(
            `timed out waiting for a socket event (${typeof match === 'string' ? match : 'predicate'})`,
          ),
        );
      }, timeoutMs);
      const done = (e: SseEvent) => {
        clearTimeout(timer);
        resolve(e);
      };
      this.waiters.push({ match: fn, resolve: done, from });
    });
  }

  async waitForCount(name: string, count: number, timeoutMs = 10000): Promise<SseEvent[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.events.filter((e) => e.event === name).length < count) {
      if (Date.now() > deadline) {
        throw new Error(
          `timed out waiting for ${count} "${name}" events (got ${this.events.filter((e) => e.event === name).length})`,
        );
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    return this.events.filter((e) => e.event === name);
  }

  waitForEnd(timeoutMs = 5000): Promise<void> {
    if (this.ended) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error('timed out waiting for the socket to close')),
        timeoutMs,
      );
      this.endWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  close(): void {
    this.socket?.terminate();
    this.onEnd();
  }
}
