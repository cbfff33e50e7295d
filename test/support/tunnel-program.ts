import { IncomingHttpHeaders, request as httpRequest } from 'node:http';
import WebSocket from 'ws';

export interface TunnelRequestFrame {
  type: 'request';
  id: string;
  method: string;
  path: string;
  headers: Record<string, string | string[]>;
  body: string;
}

export interface ProgramAnswer {
  status: number;
  headers?: Record<string, string | string[]>;
  body?: Buffer | string;
}

/** A program at the far end of a tunnel, in the test process: answers each request with `handle`. */
export class TunnelProgram {
  readonly requests: TunnelRequestFrame[] = [];
  hello: { tunnelId: string; webhookUrl: string; mode: string } | null = null;
  closeCode: number | null = null;
  readonly closed: Promise<number>;
  private readonly waiters: Array<() => void> = [];

  private constructor(
    readonly socket: WebSocket,
    public handle: (request: TunnelRequestFrame) => ProgramAnswer | null | Promise<ProgramAnswer | null>,
  ) {
    this.closed = new Promise((resolve) =>
      socket.on('close', (code) => {
        this.closeCode = code;
        resolve(code);
      }),
    );
    socket.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as { type: string };
      if (frame.type === 'hello') {
        this.hello = frame as unknown as TunnelProgram['hello'];
        return;
      }
      if (frame.type !== 'request') return;
      const request = frame as TunnelRequestFrame;
      this.requests.push(request);
      for (const w of this.waiters.splice(0)) w();
      void Promise.resolve(this.handle(request)).then((answer) => {
        if (!answer || socket.readyState !== WebSocket.OPEN) return;
        const body = answer.body === undefined ? undefined : Buffer.from(answer.body).toString('base64');
        socket.send(
          JSON.stringify({
            type: 'response',
            id: request.id,
            status: answer.status,
            headers: answer.headers,
            body,
          }),
        );
      });
    });
  }

  /** Connects; resolves once the hello frame is in (or rejects with the upgrade's HTTP status). */
  static connect(
    baseUrl: string,
    tunnelId: string,
    token: string,
    handle: TunnelProgram['handle'] = () => ({ status: 200, body: 'ok' }),
  ): Promise<TunnelProgram> {
    const socket = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/ws/${tunnelId}`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    const program = new TunnelProgram(socket, handle);
    return new Promise((resolve, reject) => {
      socket.on('unexpected-response', (req, res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => {
          clearInterval(check);
          req.destroy();
          reject(
            Object.assign(new Error(`upgrade answered ${res.statusCode}`), {
              status: res.statusCode,
              body: text,
            }),
          );
        });
      });
      socket.on('error', (e) => {
        clearInterval(check);
        reject(e);
      });
      const check = setInterval(() => {
        if (program.hello) {
          clearInterval(check);
          resolve(program);
        }
      }, 5);
      socket.on('close', () => clearInterval(check));
    });
  }

  async waitForRequests(n: number, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.requests.length < n) {
      if (Date.now() > deadline) throw new Error(`only ${this.requests.length} of ${n} requests arrived`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 200);
      });
    }
  }

  close(): void {
    if (this.socket.readyState === WebSocket.OPEN || this.socket.readyState === WebSocket.CONNECTING)
      this.socket.terminate();
  }
}

/** A request with exactly these bytes (supertest would serialise a Buffer sent as JSON). */
export function rawRequest(
  url: string,
  method: string,
  body: Buffer,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      { method, headers: { 'Content-Length': String(body.length), ...headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
