import type { Request } from 'express';

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** The token of `Authorization: Bearer <token>`, or null when the header is absent or not of that form. */
export function bearerToken(req: Request): string | null {
  const header = req.headers.authorization;
  const match = typeof header === 'string' ? BEARER.exec(header) : null;
  return match ? match[1] : null;
}

/** The `?token=` query parameter (accepted on the SSE stream only), or null. */
export function queryToken(req: Request): string | null {
  const value = req.query?.token;
  return typeof value === 'string' ? value : null;
}

/** The client address for limits: the socket's, or Express's `req.ip` (X-Forwarded-For) when TRUST_PROXY is set. */
export function clientIp(req: Request, trustProxy: boolean): string {
  return (trustProxy ? req.ip : req.socket.remoteAddress) ?? 'unknown';
}
