import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedCallback {
  path: string;
  headers: http.IncomingHttpHeaders;
  raw: string;
  body: unknown;
  at: number;
}

export type CallbackBehaviour =
  | { kind: 'answer'; status?: number; body: unknown }
  | { kind: 'hang' }
  | { kind: 'redirect'; location: string };

export const KAKAO_SUCCESS = { taskId: 'task-ok', status: 'SUCCESS', message: '', timestamp: 1795400000000 };
export const KAKAO_FAIL = {
  taskId: 'task-fail',
  status: 'FAIL',
  message: 'Invalid callback token. Check your callback token.',
  timestamp: 1795400000000,
};

/**
 * A stand-in for Kakao's callback endpoint on 127.0.0.1: records every POST and answers per path from a script
 * of behaviours (the last one repeats); by default `{"status":"SUCCESS"}`.
 */
export class FakeKakao {
  readonly received: ReceivedCallback[] = [];
  private readonly scripts = new Map<string, CallbackBehaviour[]>();
  private readonly hanging = new Set<http.ServerResponse>();
  private server!: http.Server;
  private waiters: Array<() => void> = [];
  url = '';

  static async start(): Promise<FakeKakao> {
    const fake = new FakeKakao();
    await fake.listen();
    return fake;
  }

  private listen(): Promise<void> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        let body: unknown = raw;
        try {
          body = JSON.parse(raw);
        } catch {
          // keep raw
        }
        const path = req.url ?? '/';
        this.received.push({ path, headers: req.headers, raw, body, at: Date.now() });
        for (const w of this.waiters.splice(0)) w();
        const script = this.scripts.get(path);
        const behaviour: CallbackBehaviour = (script && script.length > 1 ? script.shift() : script?.[0]) ?? {
          kind: 'answer',
          body: KAKAO_SUCCESS,
        };
        if (behaviour.kind === 'hang') {
          this.hanging.add(res);
          res.on('close', () => this.hanging.delete(res));
          return;
        }
        if (behaviour.kind === 'redirect') {
          res.writeHead(302, { Location: behaviour.location }).end();
          return;
        }
        res.writeHead(behaviour.status ?? 200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(behaviour.body));
      });
    });
    return new Promise((resolve) =>
      this.server.listen(0, '127.0.0.1', () => {
        this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
        resolve();
      }),
    );
  }

  /** A fresh callback URL on this server, answering with the given behaviours in order. */
  callbackUrl(...behaviours: CallbackBehaviour[]): string {
    const path = `/v1/callback/${Date.now()}-${Math.random().toString(36).slice(2)}`;
    if (behaviours.length > 0) this.scripts.set(path, behaviours);
    return `${this.url}${path}`;
  }

  /**
   * Scripts a fixed path (Kakao's Event API, `/v2/bots/{botId}/talk`, when this fake stands for it too): its next
   * requests are answered with these behaviours in order, the last one repeating.
   */
  script(path: string, ...behaviours: CallbackBehaviour[]): void {
    this.scripts.set(path, behaviours);
  }

  requestsTo(url: string): ReceivedCallback[] {
    const path = new URL(url).pathname;
    return this.received.filter((r) => r.path === path);
  }

  async waitForRequests(url: string, count: number, timeoutMs = 10000): Promise<ReceivedCallback[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.requestsTo(url).length < count) {
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`expected ${count} callbacks to ${url}, got ${this.requestsTo(url).length}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.requestsTo(url);
  }

  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
