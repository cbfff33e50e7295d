import http from 'node:http';
import { EventCollector } from './event-collector';

export interface SseEvent {
  id?: string;
  event?: string;
  data: string;
  /** The exact bytes of the event block, for framing assertions. */
  raw: string;
}

export interface SseConnectOptions {
  token?: string;
  tokenInQuery?: boolean;
  lastEventId?: string | number;
  headers?: Record<string, string>;
}

/**
 * A strict SSE client for tests: it keeps the raw bytes, parses events the way the OpenClaw plugin does
 * (LF framing, one `data:` line), records comments, and lets a test await the next event.
 */
export class SseClient extends EventCollector {
  readonly comments: string[] = [];
  status = 0;
  headers: http.IncomingHttpHeaders = {};
  body = '';
  private buffer = '';
  private req?: http.ClientRequest;
  private res?: http.IncomingMessage;

  constructor() {
    super('stream');
  }

  static async connect(baseUrl: string, options: SseConnectOptions = {}): Promise<SseClient> {
    const client = new SseClient();
    await client.open(baseUrl, options);
    return client;
  }

  private open(baseUrl: string, options: SseConnectOptions): Promise<void> {
    const url = new URL('/v1/events', baseUrl);
    const headers: Record<string, string> = { Accept: 'text/event-stream', ...options.headers };
    if (options.token && options.tokenInQuery) url.searchParams.set('token', options.token);
    else if (options.token) headers.Authorization = `Bearer ${options.token}`;
    if (options.lastEventId !== undefined) headers['Last-Event-ID'] = String(options.lastEventId);
    return new Promise((resolve, reject) => {
      const req = http.get(url, { headers, agent: false }, (res) => {
        this.res = res;
        this.status = res.statusCode ?? 0;
        this.headers = res.headers;
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => this.onData(chunk));
        res.on('end', () => this.finish());
        res.on('close', () => this.finish());
        res.on('error', () => this.finish());
        resolve();
      });
      req.on('error', (e) => {
        if (this.status === 0) reject(e);
        else this.finish();
      });
      this.req = req;
    });
  }

  private onData(chunk: string): void {
    this.body += chunk;
    if (this.status !== 200) return;
    this.buffer += chunk;
    let idx: number;
    while ((idx = this.buffer.indexOf('\n\n')) >= 0) {
      const block = this.buffer.slice(0, idx);
      this.buffer = this.buffer.slice(idx + 2);
      this.onBlock(block);
    }
  }

  private onBlock(block: string): void {
    if (block.startsWith(':')) {
      this.comments.push(block);
      return;
    }
    const event: SseEvent = { data: '', raw: `${block}\n\n` };
    const dataLines: string[] = [];
    for (const line of block.split('\n')) {
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'id') event.id = value;
      else if (field === 'event') event.event = value;
      else if (field === 'data') dataLines.push(value);
    }
    event.data = dataLines.join('\n');
    this.record(event);
  }

  close(): void {
    this.res?.destroy();
    this.req?.destroy();
    this.finish();
  }
}
