import { Inject, Injectable } from '@nestjs/common';
import { RELAY_CONFIG, RelayConfig } from '@app/config';
import type { WorksTarget } from '@app/core';

/** The send API's answer to one POST; `httpStatus` null when none came (network error, timeout). */
export interface WorksApiAnswer {
  httpStatus: number | null;
  retryAfter: string | null;
  error: string | null;
}

const SEND_TIMEOUT_MS = 10_000;
const MAX_ERROR_CHARS = 300;

/** `{WORKS_API_BASE_URL}/bots/{botId}/users/{userId}/messages`, or `…/channels/{channelId}/messages` for a room. */
export function worksMessageUrl(baseUrl: string, target: WorksTarget): string {
  const kind = target.kind === 'user' ? 'users' : 'channels';
  return `${baseUrl}/bots/${encodeURIComponent(target.botId)}/${kind}/${encodeURIComponent(target.id)}/messages`;
}

/** One POST of one message to the Works send API. Never throws: every outcome is an answer. */
@Injectable()
export class WorksApiClient {
  constructor(@Inject(RELAY_CONFIG) private readonly config: RelayConfig) {}

  async send(
    target: WorksTarget,
    content: Record<string, unknown>,
    accessToken: string,
  ): Promise<WorksApiAnswer> {
    let res: Response;
    try {
      res = await fetch(worksMessageUrl(this.config.worksApiBaseUrl, target), {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${accessToken}`,
          'Content-Type': 'application/json; charset=utf-8',
          Accept: 'application/json',
        },
        body: JSON.stringify({ content }),
        redirect: 'manual',
        signal: AbortSignal.timeout(SEND_TIMEOUT_MS),
      });
    } catch (e) {
      return { httpStatus: null, retryAfter: null, error: `network error: ${(e as Error).message}` };
    }
    const text = await res.text().catch(() => '');
    if (res.status >= 200 && res.status < 300)
      return { httpStatus: res.status, retryAfter: null, error: null };
    let detail = '';
    try {
      const parsed = JSON.parse(text) as { code?: unknown; description?: unknown };
      detail = [parsed.code, parsed.description].filter((v) => typeof v === 'string').join(': ');
    } catch {
      // not JSON
    }
    return {
      httpStatus: res.status,
      retryAfter: res.headers.get('retry-after'),
      error: `Works answered HTTP ${res.status}${detail ? ` (${detail.slice(0, MAX_ERROR_CHARS)})` : ''}`,
    };
  }
}
