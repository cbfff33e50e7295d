import { connect, Socket } from 'node:net';

/**
 * An agent stream opened over a raw socket that stops reading once the response head arrived — the hostile
 * client of contract §7 (a token holder whose streams never read). `drain()` reads everything the relay sent,
 * to the end, and answers the message events in it.
 */
export class StalledStream {
  status = 0;
  head = '';
  private chunks: Buffer[] = [];
  private ended = false;
  private endWaiters: Array<() => void> = [];

  private constructor(private readonly socket: Socket) {}

  static open(
    port: number,
    token: string,
    options: { lastEventId?: number; headers?: Record<string, string> } = {},
  ): Promise<StalledStream> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      const stream = new StalledStream(socket);
      let headDone = false;
      socket.on('error', (e) => (headDone ? undefined : reject(e)));
      socket.on('close', () => stream.onEnd());
      socket.on('end', () => stream.onEnd());
      socket.on('data', (chunk: Buffer) => {
        stream.chunks.push(chunk);
        if (headDone) return;
        const all = Buffer.concat(stream.chunks).toString('latin1');
        const at = all.indexOf('\r\n\r\n');
        if (at < 0) return;
        headDone = true;
        stream.head = all.slice(0, at);
        stream.status = Number(/^HTTP\/1\.1 (\d{3})/.exec(stream.head)?.[1] ?? 0);
        // Stop reading: from here on the relay's writes pile up in the kernel and then in the relay.
        if (stream.status === 200) socket.pause();
        resolve(stream);
      });
      const headers = {
        Host: '127.0.0.1',
        Accept: 'text/event-stream',
        Authorization: `Bearer ${token}`,
        ...(options.lastEventId !== undefined ? { 'Last-Event-ID': String(options.lastEventId) } : {}),
        ...options.headers,
      };
      socket.write(
        `GET /v1/events HTTP/1.1\r\n${Object.entries(headers)
          .map(([k, v]) => `${k}: ${v}`)
          .join('\r\n')}\r\n\r\n`,
      );
    });
  }

  private onEnd(): void {
    if (this.ended) return;
    this.ended = true;
    for (const w of this.endWaiters) w();
  }

  /** Reads on until the relay closed the connection; the message events (id, data) in what was received. */
  async drain(timeoutMs = 20000): Promise<Array<{ id: number; data: string }>> {
    this.socket.resume();
    if (!this.ended) {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('the relay did not close the stream')), timeoutMs);
        this.endWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return messageEvents(dechunk(Buffer.concat(this.chunks)));
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** The body of a chunked HTTP/1.1 response (a cut-off last chunk is kept as far as it came). */
function dechunk(raw: Buffer): string {
  let at = raw.indexOf('\r\n\r\n') + 4;
  const parts: Buffer[] = [];
  while (at < raw.length) {
    const lineEnd = raw.indexOf('\r\n', at);
    if (lineEnd < 0) break;
    const size = parseInt(raw.subarray(at, lineEnd).toString('latin1'), 16);
    if (!Number.isFinite(size) || size === 0) break;
    parts.push(raw.subarray(lineEnd + 2, Math.min(raw.length, lineEnd + 2 + size)));
    at = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(parts).toString('utf8');
}

function messageEvents(body: string): Array<{ id: number; data: string }> {
  const events: Array<{ id: number; data: string }> = [];
  // The last piece is what came after the last complete event (possibly a cut-off one).
  for (const block of body.split('\n\n').slice(0, -1)) {
    const m = /^id: (\d+)\nevent: message\ndata: (.*)$/s.exec(block);
    if (m) events.push({ id: Number(m[1]), data: m[2] });
  }
  return events;
}
