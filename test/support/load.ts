import http from 'node:http';
import { kakaoPayload, uniqueCallbackUrl } from '@app/testing';

export interface SentWebhook {
  text: string;
  status: number;
  ms: number;
  /** The SkillResponse (or error body) the relay answered. */
  body: unknown;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

/** One webhook over keep-alive HTTP, never throwing (a failed request is status 0). */
export function postWebhookRaw(
  baseUrl: string,
  userKey: string,
  text: string,
  timeoutMs = 10000,
): Promise<SentWebhook> {
  const body = JSON.stringify(kakaoPayload({ utterance: text, userKey, callbackUrl: uniqueCallbackUrl() }));
  const started = Date.now();
  return new Promise((resolve) => {
    const req = http.request(
      `${baseUrl}/kakao/webhook`,
      {
        method: 'POST',
        agent,
        headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
      },
      (res) => {
        let data = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (data += c));
        res.on('end', () => {
          let parsed: unknown = data;
          try {
            parsed = JSON.parse(data);
          } catch {
            // keep text
          }
          resolve({ text, status: res.statusCode ?? 0, ms: Date.now() - started, body: parsed });
        });
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve({ text, status: 0, ms: Date.now() - started, body: null }));
    req.end(body);
  });
}

/**
 * Sends webhooks at a fixed rate for a while (bounded), to whichever relay `target()` names at each tick;
 * `onTick` lets the test act at given moments. Resolves when every request has been answered.
 */
export async function steadyLoad(options: {
  target: (i: number) => string;
  userKey: string;
  perSecond: number;
  durationMs: number;
  prefix: string;
  onTick?: (elapsedMs: number) => void;
}): Promise<SentWebhook[]> {
  const interval = 1000 / options.perSecond;
  const total = Math.floor((options.durationMs / 1000) * options.perSecond);
  const started = Date.now();
  const inflight: Promise<SentWebhook>[] = [];
  for (let i = 0; i < total; i++) {
    const due = started + i * interval;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    options.onTick?.(Date.now() - started);
    inflight.push(postWebhookRaw(options.target(i), options.userKey, `${options.prefix}-${i}`));
  }
  return Promise.all(inflight);
}

export function usedCallback(sent: SentWebhook): boolean {
  return sent.status === 200 && (sent.body as { useCallback?: boolean } | null)?.useCallback === true;
}
