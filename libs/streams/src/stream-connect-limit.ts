import type { RateLimitRule } from '@app/platform';

/**
 * Stream connects per presented token and minute, whatever the transport (`GET /v1/events`, `GET /v1/ws`): one
 * counter, counted before the token is checked, so guessing tokens is throttled too.
 */
export const STREAM_CONNECT_LIMIT: RateLimitRule = {
  bucket: 'stream-connect',
  key: 'token',
  limit: (c) => c.rateLimitStreamConnectsPerMinute,
  windowMs: 60_000,
};
