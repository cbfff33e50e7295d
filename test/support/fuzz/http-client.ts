import http from 'node:http';
import net from 'node:net';

/** What one fuzz request got back. `status` 0: the connection closed without any response. */
export interface FuzzResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  text: string;
  timedOut: boolean;
  /** A transport error seen before any response (ECONNRESET, EPIPE…). */
  error?: string;
  /** For a 200 event stream: the first event block, read before the test closed the stream. */
  sseFirstBlock?: string;
  /** The request went out on a raw socket (bytes the HTTP client would refuse to send). */
  raw: boolean;
  ms: number;
}

export interface FuzzRequest {
  method: string;
  path: string;
  headers?: Record<string, string | string[]>;
  body?: Buffer | string;
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 10_000;
/** How long a successful event stream is read for its first event before the test closes it. */
const SSE_READ_MS = 3_000;

/** Event streams this client opened that have not yet closed (the test must close every one). */
export const openStreams = new Set<net.Socket>();
export const streamStats = { opened: 0 };

// Node's client refuses paths outside \u0021-\u00ff; those go out on a raw socket.
const CLIENT_PATH_OK = /^[\u0021-\u00ff]*$/;
// …and header values outside tab, \u0020-\u007e and \u0080-\u00ff.
const CLIENT_HEADER_OK = /^[\t\u0020-\u007e\u0080-\u00ff]*$/;

function isEventStream(headers: Record<string, unknown>): boolean {
  return String(headers['content-type'] ?? '').startsWith('text/event-stream');
}

/**
 * One request through `node:http` (no agent, one connection each, nothing added but Host and, when there is a
 * body, Content-Length). A 200 event stream is read up to its first event and then closed by the client.
 */
export function send(port: number, req: FuzzRequest): Promise<FuzzResponse> {
  const headerValues = Object.values(req.headers ?? {}).flat();
  if (!CLIENT_PATH_OK.test(req.path) || headerValues.some((v) => !CLIENT_HEADER_OK.test(v))) {
    const latin1OrUtf8 = (text: string) =>
      Buffer.from(text, [...text].some((c) => c.charCodeAt(0) > 0xff) ? 'utf8' : 'latin1');
    const lines = [`${req.method} ${req.path} HTTP/1.1`, `Host: 127.0.0.1:${port}`, 'Connection: close'];
    const body = req.body === undefined ? undefined : Buffer.from(req.body);
    for (const [k, v] of Object.entries(req.headers ?? {})) {
      for (const one of Array.isArray(v) ? v : [v]) lines.push(`${k}: ${one}`);
    }
    if (body && !lines.some((l) => /^content-length:/i.test(l))) lines.push(`Content-Length: ${body.length}`);
    const head = Buffer.concat(lines.map((l) => Buffer.concat([latin1OrUtf8(l), Buffer.from('\r\n')])));
    return sendRaw(port, Buffer.concat([head, Buffer.from('\r\n'), body ?? Buffer.alloc(0)]), req.timeoutMs);
  }
  const started = Date.now();
  return new Promise((resolve) => {
    let settled = false;
    const done = (r: Omit<FuzzResponse, 'raw' | 'ms'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...r, raw: false, ms: Date.now() - started });
    };
    const body = req.body === undefined ? undefined : Buffer.from(req.body);
    const headers: Record<string, string | string[]> = { ...req.headers };
    if (body && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-length')) {
      headers['Content-Length'] = String(body.length);
    }
    const request = http.request({
      host: '127.0.0.1',
      port,
      method: req.method,
      path: req.path,
      headers,
      agent: false,
      setHost: true,
    });
    const timer = setTimeout(() => {
      request.destroy();
      done({ status: 0, headers: {}, body: Buffer.alloc(0), text: '', timedOut: true });
    }, req.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    request.on('response', (res) => {
      const status = res.statusCode ?? 0;
      const chunks: Buffer[] = [];
      if (status === 200 && isEventStream(res.headers) && req.method !== 'HEAD') {
        const socket = res.socket;
        streamStats.opened += 1;
        openStreams.add(socket);
        socket.once('close', () => openStreams.delete(socket));
        let text = '';
        const finish = () => {
          res.destroy();
          request.destroy();
          const end = text.indexOf('\n\n');
          done({
            status,
            headers: res.headers,
            body: Buffer.from(text),
            text,
            timedOut: false,
            sseFirstBlock: end >= 0 ? text.slice(0, end + 2) : undefined,
          });
        };
        const sseTimer = setTimeout(finish, SSE_READ_MS);
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
          if (text.includes('\n\n')) {
            clearTimeout(sseTimer);
            finish();
          }
        });
        res.on('error', () => undefined);
        return;
      }
      res.on('data', (c: Buffer) => chunks.push(c));
      const finish = () => {
        const all = Buffer.concat(chunks);
        done({ status, headers: res.headers, body: all, text: all.toString('utf8'), timedOut: false });
      };
      res.on('end', finish);
      res.on('close', finish);
      res.on('error', finish);
    });
    request.on('error', (e: NodeJS.ErrnoException) => {
      done({
        status: 0,
        headers: {},
        body: Buffer.alloc(0),
        text: '',
        timedOut: false,
        error: e.code ?? e.message,
      });
    });
    if (body) {
      // A server may answer (413, 401) before reading a large body and close: that is fine.
      request.write(body, () => undefined);
    }
    request.end();
  });
}

interface ParsedHead {
  status: number;
  headers: Record<string, string | string[]>;
  bodyStart: number;
}

function parseHead(buf: Buffer): ParsedHead | null {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return null;
  const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
  const m = /^HTTP\/\d\.\d (\d{3})/.exec(lines[0]);
  const headers: Record<string, string | string[]> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    const prev = headers[name];
    headers[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return { status: m ? Number(m[1]) : -1, headers, bodyStart: end + 4 };
}

/** The data of the complete chunks so far, and whether the terminating chunk arrived. */
function dechunk(buf: Buffer): { data: Buffer; complete: boolean } {
  const parts: Buffer[] = [];
  let pos = 0;
  for (;;) {
    const lineEnd = buf.indexOf('\r\n', pos);
    if (lineEnd < 0) return { data: Buffer.concat(parts), complete: false };
    const size = parseInt(buf.subarray(pos, lineEnd).toString('latin1').split(';')[0], 16);
    if (Number.isNaN(size) || size === 0) return { data: Buffer.concat(parts), complete: true };
    if (buf.length < lineEnd + 2 + size + 2) return { data: Buffer.concat(parts), complete: false };
    parts.push(buf.subarray(lineEnd + 2, lineEnd + 2 + size));
    pos = lineEnd + 2 + size + 2;
  }
}

/**
 * Exact bytes on a fresh TCP connection: for what `node:http` refuses to send (CR/LF in header values, bad
 * framing, invalid bytes in the request line). Reads one response (by Content-Length, chunked framing, or close)
 * and closes the socket.
 */
export function sendRaw(port: number, bytes: Buffer, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<FuzzResponse> {
  const started = Date.now();
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let buf: Buffer = Buffer.alloc(0);
    let settled = false;
    let streamCounted = false;
    const done = (r: Omit<FuzzResponse, 'raw' | 'ms'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ ...r, raw: true, ms: Date.now() - started });
    };
    const result = (timedOut: boolean, error?: string): Omit<FuzzResponse, 'raw' | 'ms'> => {
      const head = parseHead(buf);
      if (!head) {
        return { status: 0, headers: {}, body: buf, text: buf.toString('latin1'), timedOut, error };
      }
      let body = buf.subarray(head.bodyStart);
      if (String(head.headers['transfer-encoding'] ?? '').includes('chunked')) body = dechunk(body).data;
      else if (head.headers['content-length'] !== undefined) {
        body = body.subarray(0, Number(head.headers['content-length']));
      }
      const sse = head.status === 200 && isEventStream(head.headers);
      const text = body.toString('utf8');
      return {
        status: head.status,
        headers: head.headers,
        body,
        text,
        timedOut: timedOut && !sse,
        error,
        sseFirstBlock: sse && text.includes('\n\n') ? text.slice(0, text.indexOf('\n\n') + 2) : undefined,
      };
    };
    const timer = setTimeout(() => done(result(true)), timeoutMs);
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      const head = parseHead(buf);
      if (!head) return;
      if (head.status === 100) {
        // Interim response: drop it and wait for the real one.
        buf = buf.subarray(head.bodyStart);
        return;
      }
      const chunked = String(head.headers['transfer-encoding'] ?? '').includes('chunked');
      const rest = buf.subarray(head.bodyStart);
      if (head.status === 200 && isEventStream(head.headers)) {
        if (!streamCounted) {
          streamCounted = true;
          streamStats.opened += 1;
          openStreams.add(socket);
          socket.once('close', () => openStreams.delete(socket));
        }
        if ((chunked ? dechunk(rest).data : rest).includes('\n\n')) done(result(false));
        return;
      }
      if (chunked) {
        if (dechunk(rest).complete) done(result(false));
      } else if (head.headers['content-length'] !== undefined) {
        if (rest.length >= Number(head.headers['content-length'])) done(result(false));
      }
    });
    socket.on('end', () => done(result(false)));
    socket.on('close', () => done(result(false)));
    socket.on('error', (e: NodeJS.ErrnoException) => done(result(false, e.code ?? e.message)));
    socket.write(bytes, () => undefined);
  });
}

/** Runs tasks with at most `concurrency` in flight, in order of start. */
export async function runPool<T>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<void>) {
  let next = 0;
  const workers = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++];
      await fn(item);
    }
  });
  await Promise.all(workers);
}
