/**
 * The DI token of the channel adapters the webhook serves (`ChannelAdapter[]`, one per messenger; see
 * `WebhookModule`).
 */
export const CHANNEL_ADAPTERS = Symbol('CHANNEL_ADAPTERS');
