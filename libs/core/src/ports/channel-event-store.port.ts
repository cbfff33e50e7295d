import type { ChannelName } from '../channels/channel-adapter';

/** A messenger's event that is not a message (Works `join`, `leave`, `joined`, `left`). */
export interface ChannelEvent {
  channel: ChannelName;
  conversationKey: string;
  type: string;
  /** The request body, whole. */
  payload: unknown;
  /** Same as `InboundMessage.dedupeKey`: a repeated callback is recorded once. */
  dedupeKey: string | null;
}

/** Where such events are recorded for the operator; never streamed to an agent. */
export abstract class ChannelEventStore {
  /** Records the event; false when the same event (dedupe key) was recorded already. */
  abstract record(event: ChannelEvent): Promise<boolean>;
}
