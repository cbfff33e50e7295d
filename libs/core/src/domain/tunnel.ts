import { createHash, randomBytes } from 'node:crypto';

/** How a tunnel answers a webhook (websocket.md §2): `live` waits for the program, `durable` stores and says 202. */
export type TunnelMode = 'live' | 'durable';
export const TUNNEL_MODES: readonly TunnelMode[] = ['live', 'durable'];

export interface Tunnel {
  id: string;
  /** Null for an anonymous tunnel of `GET /new`. */
  accountId: string | null;
  name: string | null;
  mode: TunnelMode;
  createdAt: Date;
  lastActivityAt: Date;
}

/** A tunnel with its credential's hash (the upgrade check). */
export interface TunnelCredential extends Tunnel {
  tokenHash: string;
}

/**
 * What happened to a forwarded request: `pending` (durable, stored, not answered yet), `answered` (the program
 * answered `status`), `failed` (live: offline, timeout, disconnected — `status` is what the caller got).
 */
export type TunnelRequestState = 'pending' | 'answered' | 'failed';

/** A request of the log (never its body). */
export interface TunnelRequestLog {
  id: string;
  tunnelId: string;
  method: string;
  path: string;
  status: number | null;
  state: TunnelRequestState;
  latencyMs: number | null;
  sizeBytes: number;
  durable: boolean;
  createdAt: Date;
  answeredAt: Date | null;
}

/** A request as forwarded: what the frame carries. */
export interface TunnelRequestData {
  id: string;
  method: string;
  /** The suffix after `/webhook/{id}`, with the query: `/any/suffix?query` (or `/`). */
  path: string;
  headers: Record<string, string | string[]>;
  body: Buffer;
}

/** The program's answer. */
export interface TunnelResponseData {
  status: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
}

/**
 * A tunnel token names its tunnel: `<tunnel id>.<64 hex>` (so the client needs nothing else); only the SHA-256 of
 * the whole token is stored.
 */
export function generateTunnelToken(tunnelId: string): string {
  return `${tunnelId}.${randomBytes(32).toString('hex')}`;
}

export function hashTunnelToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

const TUNNEL_TOKEN = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.[0-9a-f]{64}$/;

/** The tunnel id a token names, or null when it is not a tunnel token. */
export function tunnelIdOfToken(token: string): string | null {
  return TUNNEL_TOKEN.exec(token)?.[1] ?? null;
}
