import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

/** A new signing secret: `whsec_` and the base64 of 32 random bytes (the HMAC key is those bytes). */
export function generatePushSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/** The headers of one attempt, signed per Standard Webhooks with the `standardwebhooks` library. */
export interface SignedHeaders {
  'content-type': 'application/json';
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/**
 * Signs `body` for `webhookId` at `at` with every secret given (the current one first; during a rotation the
 * previous one too): `webhook-signature` holds `v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">` per secret,
 * separated by a space. The timestamp is the attempt's (a retry is signed afresh; the id stays).
 */
export function signPush(secrets: string[], webhookId: string, at: Date, body: string): SignedHeaders {
  const timestamp = Math.floor(at.getTime() / 1000);
  const when = new Date(timestamp * 1000);
  return {
    'content-type': 'application/json',
    'webhook-id': webhookId,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': secrets.map((secret) => new Webhook(secret).sign(webhookId, when, body)).join(' '),
  };
}
