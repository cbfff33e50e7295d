import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ResolvedAddress } from '@app/core';

/** One signed push attempt for the sender's thread: everything it needs, nothing it must look up. */
export interface PushSendRequest {
  id: number;
  url: string;
  address: ResolvedAddress;
  /** The secrets that sign it (the current one, and the previous one during a rotation). */
  secrets: string[];
  webhookId: string;
  /** Epoch ms of the attempt: its `webhook-timestamp`. */
  signedAt: number;
  body: string;
  timeoutMs: number;
}

/** The receiver's answer as the deliverer needs it: status, `Retry-After`, and the body (a sync reply). */
export type PushAnswer =
  | { kind: 'answer'; status: number; retryAfter: string | null; text: string }
  | { kind: 'no-answer'; error: string };

export interface PushSendResult {
  id: number;
  answer: PushAnswer;
  /** From just before the request to the end of its answer. */
  latencyMs: number;
}

/** What an attempt's request looks like to the deliverer (the thread, or a fake in unit tests). */
export abstract class PushSender {
  abstract send(request: Omit<PushSendRequest, 'id'>): Promise<PushSendResult>;
}

/**
 * The thread's entry: the compiled `push-http.thread.js` next to this file; from the TypeScript sources (tests,
 * `ts` child processes) through the repository's transpile-only loader, as the multi-process tests run them.
 */
function threadSource(): string {
  if (__filename.endsWith('.js'))
    return `require(${JSON.stringify(path.join(__dirname, 'push-http.thread.js'))});`;
  const loader = path.resolve(__dirname, '..', '..', '..', 'test', 'support', 'register-ts.js');
  const entry = path.join(__dirname, 'push-http.thread.ts');
  return `require(${JSON.stringify(loader)}); require(${JSON.stringify(entry)});`;
}

/**
 * Signs and sends push attempts on a worker thread of this process (`push-http.thread.ts`), so that the HTTP
 * client, the socket writes and the HMAC — about an eighth of the relay's CPU at 1,000 deliveries a second — are
 * off the event loop that answers webhooks within Kakao's 5 s. Started at the first attempt; if the thread dies,
 * the attempts in flight answer "no answer" (retried on the schedule, same webhook-id) and the next attempt starts
 * a new one.
 *
 * The attempts asked for in one turn of the event loop cross to the thread in one message (the deliveries of a
 * batch of stored webhooks come together), and the thread answers those that end together in one message: one
 * wake-up of the other thread per batch instead of per delivery.
 */
@Injectable()
export class PushThreadSender extends PushSender implements OnApplicationShutdown {
  private readonly logger = new Logger(PushThreadSender.name);
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, (result: PushSendResult) => void>();
  /** Asked for in this turn, handed over together at its end (`process.nextTick`: after the promise jobs). */
  private outbox: PushSendRequest[] = [];

  send(request: Omit<PushSendRequest, 'id'>): Promise<PushSendResult> {
    const id = this.nextId++;
    return new Promise<PushSendResult>((resolve) => {
      this.pending.set(id, resolve);
      if (this.outbox.length === 0) process.nextTick(() => this.handOver());
      this.outbox.push({ ...request, id });
    });
  }

  private handOver(): void {
    const batch = this.outbox;
    this.outbox = [];
    if (batch.length > 0) this.thread().postMessage(batch);
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(threadSource(), { eval: true, name: 'push-sender' });
    worker.on('message', (results: PushSendResult[]) => {
      for (const result of results) {
        const resolve = this.pending.get(result.id);
        this.pending.delete(result.id);
        resolve?.(result);
      }
    });
    const lost = (why: string) => {
      if (this.worker !== worker) return;
      this.worker = null;
      if (this.pending.size > 0)
        this.logger.warn(`push sender thread ${why}: ${this.pending.size} attempt(s) lost`);
      for (const [id, resolve] of this.pending) {
        resolve({ id, answer: { kind: 'no-answer', error: `push sender thread ${why}` }, latencyMs: 0 });
      }
      this.pending.clear();
    };
    worker.on('error', (e) => lost(`failed (${e.message})`));
    worker.on('exit', (code) => lost(`exited (${code})`));
    // Idle, it does not keep the process alive; shutdown ends it.
    worker.unref();
    this.worker = worker;
    return worker;
  }

  async onApplicationShutdown(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    await worker?.terminate();
  }
}
