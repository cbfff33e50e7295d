import http from 'node:http';

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
export class SseClient {
  readonly events: SseEvent[] = [];
  readonly comments: string[] = [];
  status = 0;
  headers: http.IncomingHttpHeaders = {};
  body = '';
  ended = false;
  private buffer = '';
  private waiters: Array<{ match: (e: SseEvent) => boolean; resolve: (e: SseEvent) => void; from: number }> =
    [];
  private endWaiters: Array<() => void> = [];
  private req?: http.ClientRequest;
  private res?: http.IncomingMessage;

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
        res.on('end', () => this.onEnd());
        res.on('close', () => this.onEnd());
        res.on('error', () => this.onEnd());
        resolve();
      });
      req.on('error', (e) => {
        if (this.status === 0) reject(e);
        else this.onEnd();
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

  /** Events named `name` received so far, data parsed. */
  dataOf<T = Record<string, unknown>>(name: string): T[] {
    return this.events.filter((e) => e.event === name).map((e) => JSON.parse(e.data) as T);
  }

  /** Waits for the next event (from `from`, default: any not yet matched by index) that matches. */
  waitFor(match: string | ((e: SseEvent) => boolean), timeoutMs = 5000, from = 0): Promise<SseEvent> {
    const fn = typeof match === 'string' ? (e: SseEvent) => e.event === match : match;
    const existing = this.events.slice(from).find(fn);
    if (existing) return Promise.resolve(existing);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done);
        reject(
          new Error(`timed out waiting for SSE event (${typeof match === 'string' ? match : 'predicate'})`),
        );
      }, timeoutMs);
      const done = (e: SseEvent) => {
        clearTimeout(timer);
        resolve(e);
      };
      this.waiters.push({ match: fn, resolve: done, from });
    });
  }

  /** Waits until `count` events named `name` arrived. */
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
      const timer = setTimeout(() => reject(new Error('timed out waiting for the stream to end')), timeoutMs);
      this.endWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  close(): void {
    this.res?.destroy();
    this.req?.destroy();
    this.onEnd();
  }
}
