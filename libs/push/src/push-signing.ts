import { createHmac, randomBytes } from 'node:crypto';

/** A new signing secret: `whsec_` and the base64 of 32 random bytes (the HMAC key is those bytes). */
export function generatePushSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/** The headers of one attempt, signed per Standard Webhooks. */
export interface SignedHeaders {
  'content-type': 'application/json';
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/** The HMAC key of a secret: the bytes of the base64 after `whsec_` (as `standardwebhooks` reads it). */
const keys = new Map<string, Buffer>();
function keyOf(secret: string): Buffer {
  let key = keys.get(secret);
  if (!key) {
    if (keys.size >= 10_000) keys.clear();
    key = Buffer.from(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret, 'base64');
    keys.set(secret, key);
  }
  return key;
}

/**
 * Signs `body` for `webhookId` at `at` with every secret given (the current one first; during a rotation the
 * previous one too): `webhook-signature` holds `v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">` per secret,
 * separated by a space. The timestamp is the attempt's (a retry is signed afresh; the id stays).
 *
 * *Why `node:crypto` and not `standardwebhooks`' own `Webhook.sign`:* the library hashes with a pure-JavaScript
 * SHA-256 (`fast-sha256`), 6.5 % of the relay's CPU in the push benchmark's profile, where OpenSSL's costs a small
 * fraction. The bytes are the same — `push-signing.spec.ts` compares them with `Webhook.sign` — and every test
 * verifies deliveries with the library's `Webhook.verify`.
 */
export function signPush(secrets: string[], webhookId: string, at: Date, body: string): SignedHeaders {
  const timestamp = Math.floor(at.getTime() / 1000);
  const signed = `${webhookId}.${timestamp}.${body}`;
  return {
    'content-type': 'application/json',
    'webhook-id': webhookId,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': secrets
      .map((secret) => `v1,${createHmac('sha256', keyOf(secret)).update(signed).digest('base64')}`)
      .join(' '),
  };
}
