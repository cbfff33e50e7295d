import type { SkillResponse } from '@app/core';
import { textOf } from '@app/testing';
import { KO } from '@app/core';
import type { FuzzResponse } from './http-client';
import { HostileValue, JsonPath, pathLabel, RawJson } from './json-text';

/*
 * What the fuzz suites hold each answer to: checks of a successful answer per endpoint (`Expectation.ok`), and the
 * verdict the contract gives for a payload with one node replaced.
 */

/** Whether every string (and key) of a JSON body is storable text: no U+0000, no unpaired surrogate. */
export function storableText(body: Buffer | string): boolean {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString());
  } catch {
    return true;
  }
  const stack: unknown[] = [parsed];
  while (stack.length > 0) {
    const value = stack.pop();
    if (typeof value === 'string') {
      if (value.includes('\u0000') || !value.isWellFormed()) return false;
    } else if (value !== null && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) {
        if (key.includes('\u0000') || !key.isWellFormed()) return false;
        stack.push(item);
      }
    }
  }
  return true;
}

/** A webhook 200 must be a SkillResponse and must not be the relay's "temporarily unavailable" apology. */
export function webhookOk(_res: FuzzResponse, json: unknown): string | null {
  const text = textOf(json as SkillResponse);
  if (text === KO.unavailable)
    return 'webhook swallowed an internal error ("일시적으로 서비스를 이용할 수 없습니다")';
  return null;
}

export function replyAcceptedOk(_res: FuzzResponse, json: unknown): string | null {
  const body = json as { success?: unknown; status?: unknown; replyId?: unknown };
  if (body?.success !== true || body.status !== 'accepted' || typeof body.replyId !== 'string') {
    return `unexpected reply answer ${JSON.stringify(json)?.slice(0, 120)}`;
  }
  return null;
}

export function healthOk(_res: FuzzResponse, json: unknown): string | null {
  const body = json as { status?: unknown; timestamp?: unknown };
  return body?.status === 'ok' && typeof body.timestamp === 'number'
    ? null
    : 'health body is not {status:"ok",timestamp}';
}

export function sseOk(res: FuzzResponse): string | null {
  if (!String(res.headers['content-type']).startsWith('text/event-stream'))
    return 'stream without text/event-stream';
  const first = res.sseFirstBlock ?? '';
  // A stream the fuzzer opened concurrently with more than MAX_STREAMS_PER_TOKEN others may be replaced first.
  const replaced = /^id: \d+\nevent: error\ndata: \{"code":"STREAM_REPLACED",.*\}\n\n$/.test(first);
  if (!replaced && !/^id: \d+\nevent: connected\ndata: \{.*\}\n\n$/.test(first)) {
    return `first event is not "connected" framed per contract: ${JSON.stringify(first.slice(0, 200))}`;
  }
  return null;
}

export function createdOk(_res: FuzzResponse, json: unknown): string | null {
  const b = json as Record<string, unknown>;
  const ok =
    typeof b?.sessionToken === 'string' &&
    /^[0-9a-f]{64}$/.test(b.sessionToken) &&
    typeof b.pairingCode === 'string' &&
    /^[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}$/.test(b.pairingCode) &&
    typeof b.expiresIn === 'number' &&
    b.status === 'pending_pairing';
  return ok ? null : `create answered 200 with ${JSON.stringify(json)?.slice(0, 160)}`;
}

/** The string a fuzz value stands for (a raw JSON string literal included), or null if it is not one. */
export function valueString(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (value instanceof RawJson) {
    try {
      const parsed: unknown = JSON.parse(value.text);
      return typeof parsed === 'string' ? parsed : null;
    } catch {
      return null;
    }
  }
  return null;
}

/**
 * What the webhook must do with a payload where the node at `path` was replaced (single mutation): the relay
 * validates userRequest{utterance ≤10000, user{id 1..256, properties?: object{plusfriendUserKey: ≤256 when a
 * string}}, callbackUrl?: a URL the callback policy allows, ≤1 KiB} and bot?{id?: ≤256}; everything else is
 * passed through untouched. No hostile value is an allowed callback URL.
 */
export function webhookVerdict(path: JsonPath, h: HostileValue | 'deleted'): 'accept' | 'reject' {
  const p = pathLabel(path);
  const kind = h === 'deleted' ? 'deleted' : h.kind;
  const str = h === 'deleted' ? null : valueString(h.value);
  const len = str === null ? -1 : [...str].length;
  switch (p) {
    case 'userRequest':
    case 'userRequest.user':
      return 'reject';
    case 'userRequest.utterance':
      return str !== null && len <= 10000 ? 'accept' : 'reject';
    case 'userRequest.user.id':
      return str !== null && len >= 1 && len <= 256 ? 'accept' : 'reject';
    case 'userRequest.user.properties':
    case 'bot':
      return kind === 'object' || kind === 'null' || kind === 'deleted' ? 'accept' : 'reject';
    case 'userRequest.callbackUrl':
      return kind === 'null' || kind === 'deleted' ? 'accept' : 'reject';
    case 'bot.id':
      return kind === 'null' || kind === 'deleted' || (str !== null && len <= 256) ? 'accept' : 'reject';
    default:
      return 'accept';
  }
}

/** Same for the reply body `{messageId, response}` (messageId a UUID, response an object with version "2.0"). */
export function replyVerdict(path: JsonPath): 'accept' | 'reject' {
  const p = pathLabel(path);
  if (p === 'messageId' || p === 'response' || p === 'response.version') return 'reject';
  return 'accept';
}
