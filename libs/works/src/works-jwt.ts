import { createSign } from 'node:crypto';

/** The service-account assertion's claims (Works Developers, "Service Account authentication"). */
export interface WorksJwtClaims {
  iss: string;
  sub: string;
  iat: number;
  exp: number;
}

/** Works accepts an assertion valid for an hour at most. */
export const WORKS_JWT_MAX_LIFETIME_S = 3600;

function base64url(data: string | Buffer): string {
  return Buffer.from(data).toString('base64url');
}

/** The claims for a client app at `nowMs`: issued now, valid for `lifetimeS` (≤ an hour). */
export function worksJwtClaims(
  clientId: string,
  serviceAccount: string,
  nowMs: number,
  lifetimeS = WORKS_JWT_MAX_LIFETIME_S,
): WorksJwtClaims {
  const iat = Math.floor(nowMs / 1000);
  return {
    iss: clientId,
    sub: serviceAccount,
    iat,
    exp: iat + Math.min(lifetimeS, WORKS_JWT_MAX_LIFETIME_S),
  };
}

/**
 * A compact JWT signed RS256 with the client app's private key (PEM). node:crypto rather than `@nestjs/jwt`,
 * which is not installed; the output is the standard `header.claims.signature`, base64url without padding.
 */
export function signWorksJwt(claims: WorksJwtClaims, privateKeyPem: string): string {
  const signingInput = `${base64url(JSON.stringify({ alg: 'RS256', typ: 'JWT' }))}.${base64url(JSON.stringify(claims))}`;
  const signature = createSign('RSA-SHA256').update(signingInput).sign(privateKeyPem);
  return `${signingInput}.${base64url(signature)}`;
}
