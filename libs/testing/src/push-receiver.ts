import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

/** One POST the receiver got, with the outcome of `Webhook.verify` for each secret it knows. */
export interface ReceivedPush {
  webhookId: string;
  timestamp: string;
  signature: string;
  raw: string;
  body: { type: string; timestamp: string; seq?: number; data: Record<string, unknown> };
  /** Whether `new Webhook(secret).verify(raw, headers)` accepted it, per secret (in `secrets` order). */
  verified: boolean[];
  at: number;
  /** The status answered (null: the request was left hanging, or the connection died first). */
  status: number | null;
}

export type PushBehaviour =
  | { kind: 'answer'; status?: number; body?: unknown; headers?: Record<string, string> }
  | { kind: 'hang' }
  | { kind: 'redirect'; location: string };

/**
 * A push receiver on 127.0.0.1 that verifies EVERY delivery with the npm `standardwebhooks` library
 * (`new Webhook(secret).verify(body, headers)`), never with the relay's code. Answers from a script (the last
 * behaviour repeats; 204 by default).
 */
export class PushReceiver {
  readonly received: ReceivedPush[] = [];
  secrets: string[] = [];
  private script: PushBehaviour[] = [];
  private readonly hanging = new Set<http.ServerResponse>();
  private waiters: Array<() => void> = [];
  private server!: http.Server;
  url = '';

  static async start(port = 0): Promise<PushReceiver> {
    const receiver = new PushReceiver();
    await receiver.listen(port);
    return receiver;
  }

  /** Answers from now on: each behaviour once, the last one for ever. */
  behave(...script: PushBehaviour[]): void {
    this.script = script;
  }

  private listen(port: number): Promise<void> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const headers = {
          'webhook-id': String(req.headers['webhook-id'] ?? ''),
          'webhook-timestamp': String(req.headers['webhook-timestamp'] ?? ''),
          'webhook-signature': String(req.headers['webhook-signature'] ?? ''),
        };
        const verified = this.secrets.map((secret) => {
          try {
            new Webhook(secret).verify(raw, headers);
            return true;
          } catch {
            return false;
          }
        });
        let body = {} as ReceivedPush['body'];
        try {
          body = JSON.parse(raw) as ReceivedPush['body'];
        } catch {
          // recorded raw
        }
        const record: ReceivedPush = {
          webhookId: headers['webhook-id'],
          timestamp: headers['webhook-timestamp'],
          signature: headers['webhook-signature'],
          raw,
          body,
          verified,
          at: Date.now(),
          status: null,
        };
        this.received.push(record);
        for (const w of this.waiters.splice(0)) w();
        const behaviour: PushBehaviour = (this.script.length > 1 ? this.script.shift() : this.script[0]) ?? {
          kind: 'answer',
          status: 204,
        };
        if (behaviour.kind === 'hang') {
          this.hanging.add(res);
          res.on('close', () => this.hanging.delete(res));
          return;
        }
        if (behaviour.kind === 'redirect') {
          record.status = 302;
          res.writeHead(302, { Location: behaviour.location }).end();
          return;
        }
        record.status = behaviour.status ?? 200;
        const text = behaviour.body === undefined ? '' : JSON.stringify(behaviour.body);
        res
          .writeHead(behaviour.status ?? 200, {
            ...(text ? { 'Content-Type': 'application/json' } : {}),
            ...behaviour.headers,
          })
          .end(text);
      });
    });
    return new Promise((resolve) =>
      this.server.listen(port, '127.0.0.1', () => {
        this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
        resolve();
      }),
    );
  }

  /** Waits until `count` requests (in all) have arrived. */
  async waitForCount(count: number, timeoutMs = 10000): Promise<ReceivedPush[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.received.length < count) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`push receiver got ${this.received.length} requests, not ${count}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.received;
  }

  /** Waits for a request matching `match`. */
  async waitFor(match: (r: ReceivedPush) => boolean, timeoutMs = 10000): Promise<ReceivedPush> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.received.find(match);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('push receiver: no matching request in time');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
