import type { Request } from 'express';
import type { IncomingMessage } from 'node:http';
import type { TrustProxy } from '@app/config';
import { addressKey, clientAddress } from './client-address';

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** The token of `Authorization: Bearer <token>`, or null when the header is absent or not of that form. */
export function bearerToken(req: IncomingMessage): string | null {
  const header = req.headers.authorization;
  const match = typeof header === 'string' ? BEARER.exec(header) : null;
  return match ? match[1] : null;
}

/** The `?token=` query parameter (accepted on the SSE stream only), or null. */
export function queryToken(req: Request): string | null {
  const value = req.query?.token;
  return typeof value === 'string' ? value : null;
}

/**
 * The one place that says who the client is, for every per-client limit and cap (rate limits, admin failed
 * logins, streams per IP): the client address chosen by `TRUST_PROXY` (see `clientAddress`), as a limit key —
 * an IPv4 address as it is, an IPv6 address as its /64 (`2001:db8:1:2::/64`); IPv4-mapped IPv6 is the IPv4.
 * `trustProxy` is the parsed `RelayConfig.trustProxy`. Works on a plain `IncomingMessage` too (no Express needed).
 */
export function clientIp(req: IncomingMessage, trustProxy: TrustProxy): string {
  return addressKey(clientAddress(req, trustProxy));
}
