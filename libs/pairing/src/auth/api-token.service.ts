import { Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { ApiKeyStore, Clock, UnauthorizedError } from '@app/core';
import { ApiKeyUsage } from './api-key-usage';
import { JwtSigningKey } from './jwt-signing-key';

/** The `iss` of every token the relay signs (and the only one it accepts). */
export const TOKEN_ISSUER = 'kakao-relay';
export const TOKEN_TTL = { min: 60, max: 86_400, default: 3600 };

/** Three base64url parts: what a JWT looks like (agent tokens are 64 hex characters, never this). */
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const JWT_MAX_LENGTH = 2048;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function looksLikeJwt(token: string): boolean {
  return token.length <= JWT_MAX_LENGTH && JWT_SHAPE.test(token);
}

export interface IssuedToken {
  token: string;
  expiresAt: Date;
}

export interface VerifiedToken {
  accountId: string;
  apiKeyId: string;
  expiresAt: Date;
}

interface TokenClaims {
  iss: string;
  sub: string;
  kid: string;
  iat: number;
  exp: number;
}

const invalid = () => new UnauthorizedError('INVALID_TOKEN', 'The token is not valid.');

/**
 * The short-lived tokens of `POST /v1/auth/token` (server-mode.md §1): HS256 JWTs signed with `@nestjs/jwt` under
 * the shared `JwtSigningKey`; claims `iss`, `sub` (account), `kid` (API key), `iat`, `exp`, all decided by the
 * `Clock`. Verifying checks signature, issuer and expiry (401 `TOKEN_EXPIRED`), then that the key still exists
 * and belongs to the account: one primary-key read per request, so a revoked key's tokens stop at once on
 * every replica (401 `TOKEN_REVOKED`) with no cache to invalidate.
 */
@Injectable()
export class ApiTokenService {
  constructor(
    private readonly jwt: JwtService,
    private readonly signingKey: JwtSigningKey,
    private readonly keys: ApiKeyStore,
    private readonly usage: ApiKeyUsage,
    private readonly clock: Clock,
  ) {}

  async issue(key: { id: string; accountId: string }, ttlSeconds: number): Promise<IssuedToken> {
    const iat = Math.floor(this.clock.now() / 1000);
    const claims: TokenClaims = {
      iss: TOKEN_ISSUER,
      sub: key.accountId,
      kid: key.id,
      iat,
      exp: iat + ttlSeconds,
    };
    const token = await this.jwt.signAsync(claims, {
      secret: await this.signingKey.get(),
      algorithm: 'HS256',
    });
    return { token, expiresAt: new Date(claims.exp * 1000) };
  }

  async verify(token: string): Promise<VerifiedToken> {
    if (!looksLikeJwt(token)) throw invalid();
    let claims: TokenClaims;
    try {
      claims = await this.jwt.verifyAsync<TokenClaims>(token, {
        secret: await this.signingKey.get(),
        algorithms: ['HS256'],
        issuer: TOKEN_ISSUER,
        clockTimestamp: Math.floor(this.clock.now() / 1000),
      });
    } catch (e) {
      if ((e as Error).name === 'TokenExpiredError') {
        throw new UnauthorizedError(
          'TOKEN_EXPIRED',
          'The token expired; get a new one from POST /v1/auth/token.',
        );
      }
      if (['JsonWebTokenError', 'NotBeforeError'].includes((e as Error).name)) throw invalid();
      throw e;
    }
    const { sub, kid, exp } = claims;
    if (typeof sub !== 'string' || typeof kid !== 'string' || !UUID.test(sub) || !UUID.test(kid))
      throw invalid();
    if (typeof exp !== 'number') throw invalid();
    const live = await this.keys.findAccounts([kid]);
    if (live.get(kid) !== sub) {
      throw new UnauthorizedError('TOKEN_REVOKED', 'The API key of this token was revoked.');
    }
    this.usage.used(kid);
    return { accountId: sub, apiKeyId: kid, expiresAt: new Date(exp * 1000) };
  }
}
