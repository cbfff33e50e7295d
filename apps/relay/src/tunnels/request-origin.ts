import type { IncomingMessage } from 'node:http';
import type { TrustProxy } from '@app/config';
import { trustsProxy } from '@app/platform';

function first(value: string | string[] | undefined): string | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  return v?.split(',')[0]?.trim() || undefined;
}

/**
 * The origin the caller used (`https://relay.example.com`): `X-Forwarded-Proto` / `X-Forwarded-Host` when the peer
 * is a trusted proxy (`TRUST_PROXY`), else the connection's own scheme and `Host`.
 */
export function requestOrigin(req: IncomingMessage, trust: TrustProxy): string {
  const encrypted = (req.socket as { encrypted?: boolean }).encrypted === true;
  let proto = encrypted ? 'https' : 'http';
  let host = req.headers.host ?? 'localhost';
  if (trust.kind !== 'none' && trustsProxy(trust)(req.socket?.remoteAddress ?? '', 0)) {
    const p = first(req.headers['x-forwarded-proto'])?.toLowerCase();
    if (p === 'http' || p === 'https') proto = p;
    host = first(req.headers['x-forwarded-host']) ?? host;
  }
  return `${proto}://${host}`;
}
