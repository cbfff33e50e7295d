import { Inject, Injectable, Logger } from '@nestjs/common';
import { RELAY_CONFIG, RelayConfig } from '@app/config';
import {
  ConversationIdentity,
  conversationIdentity,
  KakaoSkillPayload,
  KO,
  OverloadedError,
  parseCommand,
  RelayCommand,
  simpleText,
  SkillResponse,
  useCallbackResponse,
} from '@app/core';
import { messageEventData, RateLimiter, StreamEventPublisher } from '@app/messaging';
import { RelayMetrics } from '@app/platform';
import { ConversationsRepository, InboundMessagesRepository, StoredMessage } from '@app/persistence';
import { PairingService } from '@app/pairing';

import { InboundQueueProducer } from './inbound-queue.producer';
import { InlineReplyWaiter, InlineWait } from './inline-reply.waiter';
import { WebhookAdmission } from './webhook-admission';

type WebhookResult =
  | 'command'
  | 'unpaired'
  | 'flood'
  | 'stored'
  | 'duplicate'
  | 'inline_timeout'
  | 'unavailable'
  | 'overloaded'
  | 'refused';

/** What the webhook answers Kakao: always a SkillResponse (contract §2), sometimes with headers. */
export interface WebhookAnswer {
  response: SkillResponse;
  /** `Retry-After: 1` when the store's queue was full. */
  headers?: Record<string, string>;
}

/** `/pair` attempts allowed per conversation per window (brute force through Kakao must not be possible). */
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
 * Where a Kakao request becomes a relay command answer, a pairing hint, or a stored message handed to the
 * agent. Always produces a SkillResponse: Kakao shows its own error to the user on anything else.
 */
@Injectable()
export class WebhookService {
  private readonly logger = new Logger('KakaoWebhook');

  constructor(
    @Inject(RELAY_CONFIG) private readonly config: RelayConfig,
    private readonly conversations: ConversationsRepository,
    private readonly messages: InboundMessagesRepository,
    private readonly pairing: PairingService,
    private readonly producer: InboundQueueProducer,
    private readonly inline: InlineReplyWaiter,
    private readonly limiter: RateLimiter,
    private readonly metrics: RelayMetrics,
    private readonly publisher: StreamEventPublisher,
    private readonly admission: WebhookAdmission,
  ) {}

  /**
   * Both request paths (`WebhookHttpHandler`, `KakaoWebhookController`) come through here with a validated
   * payload. A payload the relay refuses (bot not allowed, callbackUrl refused) throws a `RelayError` before
   * anything is looked up or stored; every other outcome is a SkillResponse.
   */
  async handle(payload: KakaoSkillPayload): Promise<WebhookAnswer> {
    try {
      this.admission.admit(payload);
    } catch (e) {
      this.metrics.webhookRequests.inc({ result: 'refused' });
      throw e;
    }
    const identity = conversationIdentity(payload);
    const mode = payload.userRequest.callbackUrl ? 'callback' : 'inline';
    const stopTimer = this.metrics.webhookDuration.startTimer({ mode });
    let result: WebhookResult = 'unavailable';
    try {
      const command = parseCommand(payload.userRequest.utterance);
      if (command) {
        result = 'command';
        return { response: await this.runCommand(command, identity) };
      }
      const forwarded = await this.forward(payload, identity);
      result = forwarded.result;
      return { response: forwarded.response };
    } catch (e) {
      if (e instanceof OverloadedError) {
        // The store's queue is full: nothing was stored; Kakao (and the user) may try again in a second.
        result = 'overloaded';
        this.logger.warn(`webhook refused, store queue full: ${e.message}`);
        return { response: simpleText(KO.unavailable), headers: { ...e.headers } };
      }
      // PostgreSQL away or similar: still answer Kakao in time, in words the user understands.
      result = 'unavailable';
      this.logger.error(`webhook failed: ${(e as Error).message}`);
      return { response: simpleText(KO.unavailable) };
    } finally {
      stopTimer();
      this.metrics.webhookRequests.inc({ result });
    }
  }

  private async runCommand(command: RelayCommand, identity: ConversationIdentity): Promise<SkillResponse> {
    switch (command.name) {
      case 'help':
        return simpleText(KO.help);
      case 'status': {
        const conversation = await this.conversations.findByKey(identity.conversationKey);
        if (conversation?.state === 'paired' && conversation.pairedAt) {
          return simpleText(KO.statusPaired(formatKst(conversation.pairedAt)));
        }
        return simpleText(KO.statusUnpaired);
      }
      case 'unpair': {
        const outcome = await this.pairing.unpair(identity);
        return simpleText(outcome.ok ? KO.unpairDone : KO.unpairNone);
      }
      case 'pair': {
        if (!command.raw) return simpleText(KO.pairUsage);
        if (!(await this.pairAttemptAllowed(identity))) return simpleText(KO.pairTooMany);
        if (!command.code) return simpleText(KO.pairInvalid);
        const outcome = await this.pairing.pair(command.code, identity);
        return simpleText(outcome.ok ? KO.pairSuccess : KO.pairInvalid);
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

  private async forward(
    payload: KakaoSkillPayload,
    identity: ConversationIdentity,
  ): Promise<{ result: WebhookResult; response: SkillResponse }> {
    // Counted for every Kakao user, paired or not: past the limit nothing is looked up or stored.
    if (!(await this.withinFloodLimit(identity))) {
      return { result: 'flood', response: simpleText(KO.slowDown) };
    }
    const callbackUrl = payload.userRequest.callbackUrl ?? null;
    const windowMs = callbackUrl ? this.config.callbackTtlSeconds * 1000 : this.config.inlineReplyTimeoutMs;
    const outcome = await this.messages.insertQueued({
      channel: 'kakao',
      conversationKey: identity.conversationKey,
      payload,
      normalized: {
        userId: identity.userId,
        text: payload.userRequest.utterance,
        channelId: identity.channelId,
      },
      callbackUrl,
      replyDeadline: new Date(Date.now() + windowMs),
    });
    if (outcome.kind === 'unpaired') return { result: 'unpaired', response: simpleText(KO.notPaired) };
    if (outcome.kind === 'duplicate') {
      // The same Kakao request again: stored and delivered once.
      return { result: 'duplicate', response: useCallbackResponse() };
    }
    this.metrics.messagesStored.inc();
    if (callbackUrl) {
      await this.handOff(outcome.message);
      return { result: 'stored', response: useCallbackResponse() };
    }
    let wait: InlineWait | null = null;
    try {
      wait = await this.inline.begin(outcome.message.id, this.config.inlineReplyTimeoutMs);
    } catch (e) {
      this.logger.warn(`inline wait unavailable: ${(e as Error).message}`);
    }
    await this.handOff(outcome.message);
    const reply = wait ? await wait.result : null;
    return reply
      ? { result: 'stored', response: reply }
      : { result: 'inline_timeout', response: simpleText(KO.notReady) };
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
