import { Inject, Injectable, Logger } from '@nestjs/common';
import { RELAY_CONFIG, RelayConfig } from '@app/config';
import {
  ChannelAdapter,
  ChannelAnswer,
  ChannelEventStore,
  Clock,
  ConversationIdentity,
  ConversationStore,
  InboundMessageStore,
  InboundMessage,
  InboundOutcome,
  KO,
  OverloadedError,
  parseCommand,
  RelayCommand,
  StoredMessage,
} from '@app/core';
import { messageEventData, RateLimiter, StreamEventPublisher } from '@app/messaging';
import { RelayMetrics } from '@app/platform';
import { BotAccess, BotBindings, PairingService } from '@app/pairing';
import { InboundQueueProducer } from './inbound-queue.producer';

/** `relay_webhook_requests_total{result}` of a message that reached the core. */
type InboundResult =
  | 'command'
  | 'unpaired'
  | 'flood'
  | 'stored'
  | 'duplicate'
  | 'recorded'
  | 'inline_timeout'
  | 'held_answer'
  | 'unavailable'
  | 'overloaded'
  | 'refused'
  | 'not_allowed';

/** `/pair` attempts allowed per conversation per window (brute force through a messenger must not be possible). */
export const PAIR_ATTEMPT_LIMIT = 5;
export const PAIR_ATTEMPT_WINDOW_MS = 10 * 60 * 1000;

function formatKst(date: Date): string {
  return new Intl.DateTimeFormat('ko-KR', {
    dateStyle: 'medium',
    timeStyle: 'short',
    timeZone: 'Asia/Seoul',
  }).format(date);
}

/**
 * The channel-neutral core of every webhook: where a messenger's message becomes a relay command answer, a
 * pairing hint, or a message stored **before** the answer and handed to the agent's streams. The same rules on
 * every channel (contract §2, works-channel.md §1): commands and their Korean texts, the per-conversation flood
 * limit and `/pair` attempt limit, storing (sequence numbers, duplicates), the hand-off. What the messenger is
 * answered is the adapter's (`ChannelAdapter.answer`).
 */
@Injectable()
export class InboundService {
  private readonly logger = new Logger('InboundMessages');

  constructor(
    @Inject(RELAY_CONFIG) private readonly config: RelayConfig,
    private readonly conversations: ConversationStore,
    private readonly messages: InboundMessageStore,
    private readonly pairing: PairingService,
    private readonly producer: InboundQueueProducer,
    private readonly limiter: RateLimiter,
    private readonly metrics: RelayMetrics,
    private readonly publisher: StreamEventPublisher,
    private readonly clock: Clock,
    private readonly channelEvents: ChannelEventStore,
    private readonly bindings: BotBindings,
  ) {}

  /**
   * Handles an authenticated, parsed message. One the relay does not serve (`ChannelAdapter.admit`) throws its
   * `RelayError` before anything is looked up or stored; every other outcome is the adapter's answer — a database
   * or Redis failure included, which the user is told about in words they understand.
   */
  async handle<T>(adapter: ChannelAdapter<T>, message: InboundMessage<T>): Promise<ChannelAnswer> {
    try {
      adapter.admit(message);
    } catch (e) {
      this.metrics.webhookRequests.inc({ result: 'refused' });
      throw e;
    }
    const stopTimer = this.metrics.webhookDuration.startTimer({ mode: message.replyMode });
    let result: InboundResult = 'unavailable';
    try {
      const direct = await adapter.answerDirectly(message);
      if (direct) {
        result = 'held_answer';
        if (direct.heldAnswerSent) this.metrics.heldAnswers.inc({ event: 'sent_event_api' });
        return direct;
      }
      if (message.event) {
        result = 'recorded';
        await this.channelEvents.record({
          channel: message.channel,
          conversationKey: message.conversation.conversationKey,
          type: message.event,
          payload: message.payload,
          dedupeKey: message.dedupeKey ?? null,
        });
        return await adapter.answer(message, { kind: 'recorded' });
      }
      // The bot's binding (server-mode.md §3), from memory: decides before the pairing rules do.
      const access = this.bindings.accessFor(message.channel, message.botId, message.conversation.userId);
      const command = parseCommand(message.text);
      if (command) {
        result = 'command';
        return await adapter.answer(message, {
          kind: 'command',
          text: await this.runCommand(command, message.conversation, access),
        });
      }
      const outcome = await this.store(message, access);
      result = outcome.kind === 'refused' ? 'not_allowed' : outcome.kind;
      const answer = await adapter.answer(message, outcome);
      if (answer.replyTimedOut) result = 'inline_timeout';
      return answer;
    } catch (e) {
      // PostgreSQL away, the store's queue full (nothing was stored) or similar: still answer in time.
      const retryAfter = e instanceof OverloadedError ? Number(e.headers?.['Retry-After']) : NaN;
      if (e instanceof OverloadedError) {
        result = 'overloaded';
        this.logger.warn(`message refused, store queue full: ${e.message}`);
      } else {
        result = 'unavailable';
        this.logger.error(`message failed: ${(e as Error).message}`);
      }
      return adapter.answer(message, {
        kind: 'unavailable',
        text: KO.unavailable,
        retryAfterSeconds: Number.isFinite(retryAfter) ? retryAfter : undefined,
      });
    } finally {
      stopTimer();
      this.metrics.webhookRequests.inc({ result });
    }
  }

  private async runCommand(
    command: RelayCommand,
    identity: ConversationIdentity,
    access: BotAccess,
  ): Promise<string> {
    if (command.name === 'help') return KO.help;
    if (access.kind === 'refused') return KO.botNotAllowed;
    if (access.kind === 'bound') return this.runBoundCommand(command, identity, access.accountId);
    switch (command.name) {
      case 'status': {
        const conversation = await this.conversations.findByKey(identity.conversationKey);
        if (conversation?.state === 'paired' && conversation.pairedAt) {
          return KO.statusPaired(formatKst(conversation.pairedAt));
        }
        return KO.statusUnpaired;
      }
      case 'unpair': {
        const outcome = await this.pairing.unpair(identity);
        return outcome.ok ? KO.unpairDone : KO.unpairNone;
      }
      case 'pair': {
        if (!command.raw) return KO.pairUsage;
        if (!(await this.pairAttemptAllowed(identity))) return KO.pairTooMany;
        if (!command.code) return KO.pairInvalid;
        const outcome = await this.pairing.pair(command.code, identity);
        return outcome.ok ? KO.pairSuccess : KO.pairInvalid;
      }
    }
  }

  /**
   * A bound bot's commands: `/pair` and `/unpair` change nothing (the binding decides where messages go) and say
   * so; `/status` tells whether messages reach the bound agent (they do, from the first message on).
   */
  private async runBoundCommand(
    command: RelayCommand,
    identity: ConversationIdentity,
    accountId: string,
  ): Promise<string> {
    switch (command.name) {
      case 'pair':
        return KO.botBoundPair;
      case 'unpair':
        return KO.botBoundUnpair;
      default: {
        const conversation = await this.conversations.findByKey(identity.conversationKey);
        if (
          conversation?.state === 'paired' &&
          conversation.accountId === accountId &&
          conversation.pairedAt
        ) {
          return KO.statusPaired(formatKst(conversation.pairedAt));
        }
        return KO.statusBound;
      }
    }
  }

  /** Per-conversation flood guard: past the limit the user is asked to slow down and nothing is stored. */
  private async withinFloodLimit(identity: ConversationIdentity): Promise<boolean> {
    try {
      const result = await this.limiter.hit(
        'user-messages',
        identity.conversationKey,
        this.config.webhookUserMessagesPerMinute,
        60_000,
      );
      return result.allowed;
    } catch (e) {
      // Redis away: store the message (PostgreSQL is the source of truth), do not drop it.
      this.logger.warn(`flood guard unavailable: ${(e as Error).message}`);
      return true;
    }
  }

  private async pairAttemptAllowed(identity: ConversationIdentity): Promise<boolean> {
    try {
      const result = await this.limiter.hit(
        'pair',
        identity.conversationKey,
        PAIR_ATTEMPT_LIMIT,
        PAIR_ATTEMPT_WINDOW_MS,
      );
      return result.allowed;
    } catch (e) {
      // Redis away: an 8-character code (2^40) is not brute-forced in an outage; let the user pair.
      this.logger.warn(`pair attempt limit unavailable: ${(e as Error).message}`);
      return true;
    }
  }

  /**
   * Stores a paired conversation's message (flood limit first); what happened, for the adapter to answer. A bound
   * bot's user (`open`, or on the allow-list) goes the same way with the bound account required: the first message
   * finds no conversation paired to it, so the conversation is paired to it on the spot and the message stored
   * again — once per user; later messages take the normal path in one statement.
   */
  private async store(message: InboundMessage, access: BotAccess): Promise<InboundOutcome> {
    const identity = message.conversation;
    // Counted for every user, paired or not: past the limit nothing is looked up or stored.
    if (!(await this.withinFloodLimit(identity))) return { kind: 'flood', text: KO.slowDown };
    if (access.kind === 'refused') return { kind: 'refused', text: KO.botNotAllowed };
    const boundAccountId = access.kind === 'bound' ? access.accountId : null;
    const input = {
      channel: message.channel,
      conversationKey: identity.conversationKey,
      payload: message.payload,
      normalized: message.normalized,
      callbackUrl: message.callbackUrl,
      dedupeKey: message.dedupeKey ?? null,
      replyDeadline: this.clock.after(message.replyWindowMs),
      boundAccountId,
    };
    let outcome = await this.messages.insertQueued(input);
    if (outcome.kind === 'unpaired' && boundAccountId) {
      await this.pairing.bindConversation(identity, boundAccountId);
      outcome = await this.messages.insertQueued(input);
      // Only if the conversation left the account again in between (the operator deleted it): try again later.
      if (outcome.kind === 'unpaired') throw new Error('the conversation of a bound bot could not be paired');
    }
    if (outcome.kind === 'unpaired') return { kind: 'unpaired', text: KO.notPaired };
    if (outcome.kind === 'duplicate') return { kind: 'duplicate' };
    this.metrics.messagesStored.inc();
    const stored = outcome.message;
    return { kind: 'stored', messageId: stored.id, handOff: () => this.handOff(stored) };
  }

  /**
   * Stored already. The message goes straight to the account's streams with one PUBLISH; only when that fails
   * does it go on the BullMQ delivery queue, whose worker retries with backoff. If Redis refuses both, the
   * streams catch it up from PostgreSQL when Redis is back. (Every message through BullMQ cost a third of the
   * relay's CPU per message; see docs/architecture.md.)
   */
  private async handOff(message: StoredMessage): Promise<void> {
    try {
      await this.publisher.toAccount(message.accountId, {
        kind: 'message',
        seq: message.seq,
        data: messageEventData(message),
      });
      return;
    } catch (e) {
      this.logger.warn(`message ${message.id}: publish failed, queueing a retry: ${(e as Error).message}`);
    }
    try {
      await this.producer.enqueue(message);
    } catch (e) {
      this.logger.warn(
        `message ${message.id} stored but neither published nor queued (streams will catch up): ${(e as Error).message}`,
      );
    }
  }
}
