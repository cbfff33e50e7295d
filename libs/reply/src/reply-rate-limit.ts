import type { RateLimitRule } from '@app/platform';

/** Replies per account and minute, over HTTP (`POST /openclaw/reply`) and over the agent socket alike. */
export const REPLY_RATE_LIMIT: RateLimitRule = {
  bucket: 'reply',
  key: 'account',
  limit: (config) => config.rateLimitRepliesPerMinute,
  windowMs: 60_000,
};
