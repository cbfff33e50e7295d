import { Inject, Injectable } from '@nestjs/common';
import { RELAY_CONFIG, RelayConfig } from '@app/config';
import type { KakaoEventSettings } from '@app/core';

/** Kakao's answer to one Event API call; `httpStatus` null when none came (network error, timeout). */
export interface EventApiAnswer {
  httpStatus: number | null;
  /** The parsed JSON body (`{taskId, status, message}`), when there was one. */
  body: { taskId?: unknown; status?: unknown; message?: unknown } | null;
  error: string | null;
}

const EVENT_TIMEOUT_MS = 10_000;
const MAX_ERROR_CHARS = 300;

/**
 * One call of Kakao's Event API (server-mode §6): `POST {KAKAO_EVENT_API_BASE_URL}/v2/bots/{botId}/talk` with
 * `Authorization: KakaoAK <REST API key>` and the event for one user (`botUserKey`), whose data carries the
 * `heldId`. Only the configured base URL is contacted (an operator's fixed host, redirects not followed). Never
 * throws: every outcome is an answer.
 */
@Injectable()
export class KakaoEventApiClient {
  constructor(@Inject(RELAY_CONFIG) private readonly config: RelayConfig) {}

  async call(settings: KakaoEventSettings, botUserKey: string, heldId: string): Promise<EventApiAnswer> {
    const url = `${this.config.kakaoEventApiBaseUrl}/v2/bots/${encodeURIComponent(settings.botId)}/talk`;
    const body = {
      event: { name: settings.eventName, data: { heldId } },
      user: [{ type: 'botUserKey', id: botUserKey }],
    };
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: {
          Authorization: `KakaoAK ${settings.restApiKey}`,
          'Content-Type': 'application/json; charset=utf-8',
          Accept: 'application/json',
        },
        body: JSON.stringify(body),
        redirect: 'manual',
        signal: AbortSignal.timeout(EVENT_TIMEOUT_MS),
      });
    } catch (e) {
      const error = e as Error;
      const reason =
        error.name === 'TimeoutError' ? `no answer within ${EVENT_TIMEOUT_MS} ms` : error.message;
      return { httpStatus: null, body: null, error: `Event API unreachable: ${reason}` };
    }
    const text = await res.text().catch(() => '');
    let parsed: EventApiAnswer['body'] = null;
    try {
      const value: unknown = JSON.parse(text);
      if (value && typeof value === 'object' && !Array.isArray(value))
        parsed = value as EventApiAnswer['body'];
    } catch {
      parsed = null;
    }
    return {
      httpStatus: res.status,
      body: parsed,
      error: res.ok ? null : `HTTP ${res.status}: ${text.slice(0, MAX_ERROR_CHARS)}`,
    };
  }
}
