import type { TunnelRequestData, TunnelResponseData } from '@app/core';

/**
 * The frames of a tunnel's socket (websocket.md §2), JSON text. Server → program: `hello` once after the upgrade
 * (the tunnel's id, webhook URL and mode, so the client needs only its token), then `request`s. Program → server:
 * `response`s, matched by `id`.
 */
export interface HelloFrame {
  type: 'hello';
  tunnelId: string;
  webhookUrl: string;
  mode: string;
}

export interface RequestFrame {
  type: 'request';
  id: string;
  method: string;
  path: string;
  headers: Record<string, string | string[]>;
  body: string;
}

/** Hop-by-hop headers (RFC 9110 §7.6.1 and the old proxy ones): never forwarded, either way. */
export const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/**
 * The end-to-end headers of a raw header list (`IncomingMessage.rawHeaders`): names lower-cased, values unchanged,
 * a repeated header as an array in arrival order; hop-by-hop headers and those the `Connection` header names dropped.
 */
export function endToEndHeaders(raw: readonly string[]): Record<string, string | string[]> {
  const named = new Set<string>();
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i].toLowerCase() === 'connection') {
      for (const token of raw[i + 1].split(',')) named.add(token.trim().toLowerCase());
    }
  }
  const headers: Record<string, string | string[]> = {};
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    if (HOP_BY_HOP.has(name) || named.has(name)) continue;
    const value = raw[i + 1];
    const prior = headers[name];
    if (prior === undefined) headers[name] = value;
    else if (Array.isArray(prior)) prior.push(value);
    else headers[name] = [prior, value];
  }
  return headers;
}

export function requestFrame(request: TunnelRequestData): string {
  const frame: RequestFrame = {
    type: 'request',
    id: request.id,
    method: request.method,
    path: request.path,
    headers: request.headers,
    body: request.body.toString('base64'),
  };
  return JSON.stringify(frame);
}

function isHeaderValue(v: unknown): v is string | string[] {
  return typeof v === 'string' || (Array.isArray(v) && v.every((x) => typeof x === 'string'));
}

/**
 * A program's `response` frame, checked: `id` a string, `status` an integer 200–599, `headers` (optional) names to
 * string or string-array values (hop-by-hop ones and `content-length` dropped: the relay frames the body), `body`
 * (optional) base64. Null when the frame is not one.
 */
export function parseResponseFrame(value: unknown): { id: string; response: TunnelResponseData } | null {
  if (!value || typeof value !== 'object') return null;
  const f = value as Record<string, unknown>;
  if (f.type !== 'response' || typeof f.id !== 'string') return null;
  const status = f.status;
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 200 || status > 599) return null;
  const headers: Record<string, string | string[]> = {};
  if (f.headers !== undefined) {
    if (!f.headers || typeof f.headers !== 'object' || Array.isArray(f.headers)) return null;
    for (const [name, v] of Object.entries(f.headers as Record<string, unknown>)) {
      if (!isHeaderValue(v)) return null;
      const lower = name.toLowerCase();
      if (HOP_BY_HOP.has(lower) || lower === 'content-length') continue;
      if (!/^[!#$%&'*+.^_`|~0-9a-z-]+$/.test(lower)) return null;
      headers[lower] = v;
    }
  }
  if (f.body !== undefined && f.body !== null && typeof f.body !== 'string') return null;
  const body = typeof f.body === 'string' ? Buffer.from(f.body, 'base64') : Buffer.alloc(0);
  return { id: f.id, response: { status, headers, body } };
}
