import type { SseEvent } from './sse-client';

/**
 * What the SSE and the WebSocket test clients share: the events received (in the SSE shape: `id`, `event`, `data`
 * as text), waiting for one, for a count, or for the end. A client calls `record` for each event and `finish` when
 * its connection ended; `noun` names what ends in the timeout messages ("stream", "socket").
 */
export abstract class EventCollector {
  readonly events: SseEvent[] = [];
  ended = false;
  private waiters: Array<{ match: (e: SseEvent) => boolean; resolve: (e: SseEvent) => void; from: number }> =
    [];
  private endWaiters: Array<() => void> = [];

  protected constructor(private readonly noun: string) {}

  protected record(event: SseEvent): void {
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

  protected finish(): void {
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
        const what = typeof match === 'string' ? match : 'predicate';
        reject(new Error(`timed out waiting for a ${this.noun} event (${what})`));
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
      const timer = setTimeout(
        () => reject(new Error(`timed out waiting for the ${this.noun} to end`)),
        timeoutMs,
      );
      this.endWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
