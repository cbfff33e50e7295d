import { WebSocket } from 'ws';
import type { SseEvent } from './sse-client';
import { EventCollector } from './event-collector';

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
export class WsClient extends EventCollector {
  readonly frames: Array<Record<string, unknown>> = [];
  readonly replyResults: ReplyResultFrame[] = [];
  status = 0;
  headers: Record<string, string | string[] | undefined> = {};
  body = '';
  closeCode: number | null = null;
  closeReason = '';
  pings = 0;
  /** Frames that came as binary: the relay must send every frame as text (websocket.md §1). */
  binaryFrames = 0;
  private socket!: WebSocket;
  private resultWaiters: Array<{ requestId: string | null; resolve: (r: ReplyResultFrame) => void }> = [];

  constructor() {
    super('socket');
  }

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
          this.finish();
          resolve();
        });
        res.on('error', () => {
          this.finish();
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
      socket.on('message', (data, isBinary) => {
        if (isBinary) this.binaryFrames++;
        this.onFrame(String(data));
      });
      socket.on('ping', () => this.pings++);
      socket.on('close', (code, reason) => {
        this.closeCode = code;
        this.closeReason = reason.toString();
        this.finish();
      });
      socket.on('error', (e) => {
        if (this.status === 0) reject(e);
        this.finish();
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
    this.record(event);
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

  close(): void {
    this.socket?.terminate();
    this.finish();
  }
}
