import { JwtService } from '@nestjs/jwt';

/** The service-account assertion's claims (Works Developers, "Service Account authentication"). */
export interface WorksJwtClaims {
  iss: string;
  sub: string;
  iat: number;
  exp: number;
}

/** Works accepts an assertion valid for an hour at most. */
export const WORKS_JWT_MAX_LIFETIME_S = 3600;

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

const jwt = new JwtService();

/**
 * A compact JWT signed RS256 with the client app's private key (PEM), header `{"alg":"RS256","typ":"JWT"}`, the
 * claims as given (`iat` and `exp` included): `@nestjs/jwt` (jsonwebtoken).
 */
export function signWorksJwt(claims: WorksJwtClaims, privateKeyPem: string): string {
  return jwt.sign({ ...claims }, { algorithm: 'RS256', privateKey: privateKeyPem });
}
