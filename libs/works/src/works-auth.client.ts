import { Inject, Injectable } from '@nestjs/common';
import { RELAY_CONFIG, RelayConfig } from '@app/config';
import { signWorksJwt, worksJwtClaims } from './works-jwt';

/** What the token endpoint needs of a bot's client app. */
export interface WorksClientApp {
  clientId: string;
  clientSecret: string;
  serviceAccount: string;
  privateKey: string;
}

export interface IssuedWorksToken {
  accessToken: string;
  expiresInS: number;
}

/** The token endpoint refused or could not be reached; `httpStatus` null when no answer came. */
export class WorksAuthError extends Error {
  constructor(
    readonly httpStatus: number | null,
    message: string,
  ) {
    super(message);
    this.name = 'WorksAuthError';
  }
}

const AUTH_TIMEOUT_MS = 10_000;

/** The service-account grant: `POST {WORKS_AUTH_URL}` with a fresh RS256 assertion (works-channel.md §3). */
@Injectable()
export class WorksAuthClient {
  constructor(@Inject(RELAY_CONFIG) private readonly config: RelayConfig) {}

  async issue(app: WorksClientApp, nowMs: number): Promise<IssuedWorksToken> {
    const assertion = signWorksJwt(worksJwtClaims(app.clientId, app.serviceAccount, nowMs), app.privateKey);
    const body = new URLSearchParams({
      grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
      client_id: app.clientId,
      client_secret: app.clientSecret,
      assertion,
      scope: 'bot',
    });
    let res: Response;
    try {
      res = await fetch(this.config.worksAuthUrl, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(AUTH_TIMEOUT_MS),
      });
    } catch (e) {
      throw new WorksAuthError(null, `token endpoint unreachable: ${(e as Error).message}`);
    }
    const text = await res.text().catch(() => '');
    let parsed: Record<string, unknown> = {};
    try {
      const json: unknown = JSON.parse(text);
      if (typeof json === 'object' && json !== null) parsed = json as Record<string, unknown>;
    } catch {
      // judged by the status below
    }
    if (res.status !== 200) {
      const detail = typeof parsed.error_description === 'string' ? parsed.error_description : parsed.error;
      throw new WorksAuthError(
        res.status,
        `token endpoint answered HTTP ${res.status}${typeof detail === 'string' ? `: ${detail}` : ''}`,
      );
    }
    const accessToken = parsed.access_token;
    // Works documents `expires_in` as a string ("86400"); a number is accepted as well.
    const expiresInS = Number(parsed.expires_in);
    if (
      typeof accessToken !== 'string' ||
      accessToken === '' ||
      !Number.isFinite(expiresInS) ||
      expiresInS <= 0
    ) {
      throw new WorksAuthError(res.status, 'token endpoint answered without access_token or expires_in');
    }
    return { accessToken, expiresInS };
  }
}
