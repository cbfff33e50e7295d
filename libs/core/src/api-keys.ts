import { randomBytes } from 'node:crypto';

/** The public half of an API key: `ak_live_` and 24 random bytes in base64url. */
export const API_KEY_PATTERN = /^ak_live_[A-Za-z0-9_-]{32}$/;
/** The secret half: `sk_` and 32 random bytes in base64url; only its SHA-256 is stored. */
export const SECRET_KEY_PATTERN = /^sk_[A-Za-z0-9_-]{43}$/;

export interface ApiKeyPair {
  apiKey: string;
  secretKey: string;
}

export function generateApiKeyPair(): ApiKeyPair {
  return {
    apiKey: `ak_live_${randomBytes(24).toString('base64url')}`,
    secretKey: `sk_${randomBytes(32).toString('base64url')}`,
  };
}
