import { request as httpRequest } from 'node:http';
import request from 'supertest';
import type { KakaoSkillPayload, SkillResponse } from '@app/core';
import { kakaoPayload, uniqueCallbackUrl } from './kakao-fixtures';
import { SseClient } from './sse-client';
import { WsClient } from './ws-client';

export interface CreatedSession {
  sessionToken: string;
  pairingCode: string;
  expiresIn: number;
  status: string;
}

export async function createSession(baseUrl: string): Promise<CreatedSession> {
  const res = await request(baseUrl).post('/v1/sessions/create').send({}).expect(200);
  return res.body as CreatedSession;
}

export async function postWebhook(
  baseUrl: string,
  payload: unknown,
  headers: Record<string, string> = {},
): Promise<request.Response> {
  const req = request(baseUrl).post('/kakao/webhook').set('Content-Type', 'application/json');
  for (const [k, v] of Object.entries(headers)) req.set(k, v);
  return req.send(typeof payload === 'string' ? payload : JSON.stringify(payload));
}

/** The text of a simpleText SkillResponse. */
export function textOf(response: SkillResponse): string {
  const output = response.template?.outputs?.[0] as { simpleText?: { text?: string } } | undefined;
  return output?.simpleText?.text ?? '';
}

export async function sendPair(baseUrl: string, code: string, userKey: string): Promise<string> {
  const res = await postWebhook(
    baseUrl,
    kakaoPayload({ utterance: `/pair ${code}`, userKey, callbackUrl: null }),
  );
  if (res.status !== 200) throw new Error(`/pair answered ${res.status}: ${res.text}`);
  return textOf(res.body as SkillResponse);
}

export interface PairedAgent {
  token: string;
  accountId: string;
  userKey: string;
}

/** Pairs a Kakao user with a fresh session as the plugin and a user would; returns the agent credential. */
export async function pairAgent(baseUrl: string, userKey: string): Promise<PairedAgent> {
  const session = await createSession(baseUrl);
  await sendPair(baseUrl, session.pairingCode, userKey);
  const status = await request(baseUrl).get(`/v1/sessions/${session.sessionToken}/status`).expect(200);
  if (status.body.status !== 'paired') throw new Error(`pairing failed: ${JSON.stringify(status.body)}`);
  return { token: session.sessionToken, accountId: status.body.accountId as string, userKey };
}

/** A message from a paired user, with a unique callbackUrl unless told otherwise. */
export function userMessage(userKey: string, text: string, callbackUrl: string | null = uniqueCallbackUrl()) {
  return kakaoPayload({ utterance: text, userKey, callbackUrl });
}

export async function sendMessage(baseUrl: string, payload: KakaoSkillPayload): Promise<SkillResponse> {
  const res = await postWebhook(baseUrl, payload);
  if (res.status !== 200) throw new Error(`webhook answered ${res.status}: ${res.text}`);
  return res.body as SkillResponse;
}

export async function openStream(
  baseUrl: string,
  token: string,
  lastEventId?: number | string,
): Promise<SseClient> {
  const client = await SseClient.connect(baseUrl, { token, lastEventId });
  if (client.status !== 200) throw new Error(`stream answered ${client.status}: ${client.body}`);
  await client.waitFor('connected');
  return client;
}

/** The agent socket (`GET /v1/ws`) opened as `openStream` opens the SSE stream: after `connected`. */
export async function openSocketStream(
  baseUrl: string,
  token: string,
  lastEventId?: number | string,
): Promise<WsClient> {
  const client = await WsClient.connect(baseUrl, { token, lastEventId });
  if (client.status !== 101) throw new Error(`socket answered ${client.status}: ${client.body}`);
  await client.waitFor('connected');
  return client;
}

/** The agent streams' transports, for suites that run against both. */
export type StreamTransportName = 'sse' | 'ws';

/** What delivery tests read of a stream, whichever the transport. */
export type AgentStreamClient = SseClient | WsClient;

/** `openStream` or `openSocketStream`. */
export function streamOpener(
  transport: StreamTransportName,
): (baseUrl: string, token: string, lastEventId?: number | string) => Promise<AgentStreamClient> {
  return transport === 'ws' ? openSocketStream : openStream;
}

export function postReply(baseUrl: string, token: string, body: unknown): request.Test {
  return request(baseUrl)
    .post('/openclaw/reply')
    .set('Authorization', `Bearer ${token}`)
    .set('Content-Type', 'application/json')
    .send(typeof body === 'string' ? body : JSON.stringify(body));
}

export function textReply(text: string): SkillResponse {
  return { version: '2.0', template: { outputs: [{ simpleText: { text } }] } };
}

/** Polls a condition until it holds (for state with no event to await), failing after the timeout. */
export async function waitUntil(
  check: () => Promise<boolean> | boolean,
  timeoutMs = 10000,
  everyMs = 25,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

/** POSTs raw bytes to the webhook either as one Content-Length body or in two chunks (`Transfer-Encoding`). */
export function postWebhookRaw(
  baseUrl: string,
  raw: string | Buffer,
  headers: Record<string, string>,
  chunked: boolean,
): Promise<RawAnswer> {
  return new Promise<RawAnswer>((resolve, reject) => {
    const req = httpRequest(`${baseUrl}/kakao/webhook`, { method: 'POST', headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // not JSON: keep the text
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
      });
    });
    req.on('error', reject);
    if (chunked) {
      req.setHeader('Transfer-Encoding', 'chunked');
      const half = Math.floor(raw.length / 2);
      req.write(raw.slice(0, half));
      req.end(raw.slice(half));
    } else {
      req.setHeader('Content-Length', Buffer.byteLength(raw));
      req.end(raw);
    }
  });
}
