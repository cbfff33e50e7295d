import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { RELAY_CONFIG, RelayConfig } from '@app/config';
import {
  ChannelAdapter,
  ChannelAnswer,
  ChannelRequest,
  Clock,
  conversationIdentity,
  HeldAnswerStore,
  InboundMessage,
  InboundOutcome,
  KakaoSkillPayload,
  KO,
  mergeSkillResponses,
  simpleText,
  useCallbackResponse,
} from '@app/core';
import { InlineReplyWaiter, InlineWait } from './inline-reply.waiter';
import { KakaoAdmission } from './kakao-admission';
import { verifySkillRequest } from './skill-auth';
import { validateSkillPayload } from './skill-payload.validator';

/** `POST /kakao/webhook` takes bodies up to 1 MiB (contract §2: 413 beyond). */
export const KAKAO_WEBHOOK_BODY_LIMIT_BYTES = 1024 * 1024;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function field(value: unknown, key: string): unknown {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)[key]
    : undefined;
}

/**
 * The `heldId` of an event block's skill request, if any. Where Kakao puts the Event API's event data in the skill
 * request is not documented in what we build against (kakao-openbuilder.md); the relay looks, in this order, at
 * `action.params.heldId` (the block's parameter, when the block maps the event data to one),
 * `userRequest.event.data.heldId`, `action.clientExtra.heldId` and `userRequest.params.heldId`. Only a UUID counts.
 */
export function heldIdOf(payload: KakaoSkillPayload): string | null {
  const candidates = [
    field(field(payload.action, 'params'), 'heldId'),
    field(field(field(payload.userRequest, 'event'), 'data'), 'heldId'),
    field(field(payload.action, 'clientExtra'), 'heldId'),
    field(payload.userRequest.params, 'heldId'),
  ];
  for (const c of candidates) if (typeof c === 'string' && UUID.test(c)) return c.toLowerCase();
  return null;
}

/** The answer to a stored callback-mode message and to its retries (one object, serialised per answer). */
const USE_CALLBACK: ChannelAnswer = Object.freeze({ status: 200, body: useCallbackResponse() });

/**
 * Kakao i OpenBuilder (contract §2): a skill webhook that must always be answered with HTTP 200 and a SkillResponse
 * once the request is authenticated and parseable, because Kakao shows its own error to the user on anything else.
 * Authentication is the fixed skill-secret header and/or an HMAC of the raw body; the conversation is
 * `"<bot.id>:<plusfriendUserKey>"`; commands come from `userRequest.utterance`; the relay's texts are `simpleText`s;
 * a stored message is answered `useCallback` when the block has a `callbackUrl`, else the webhook waits for the
 * agent's reply (`INLINE_REPLY_TIMEOUT_MS`) and returns it as its SkillResponse.
 */
@Injectable()
export class KakaoChannelAdapter extends ChannelAdapter<KakaoSkillPayload> implements OnModuleInit {
  readonly channel = 'kakao';
  readonly path = '/kakao/webhook';
  readonly bodyLimitBytes = KAKAO_WEBHOOK_BODY_LIMIT_BYTES;
  private readonly logger = new Logger('KakaoWebhook');

  constructor(
    @Inject(RELAY_CONFIG) private readonly config: RelayConfig,
    private readonly admission: KakaoAdmission,
    private readonly inline: InlineReplyWaiter,
    private readonly held: HeldAnswerStore,
    private readonly clock: Clock,
  ) {
    super();
  }

  onModuleInit(): void {
    if (!this.config.kakaoSkillSecret && !this.config.kakaoSignatureSecret) {
      this.logger.warn(
        'KAKAO_SKILL_SECRET and KAKAO_SIGNATURE_SECRET are unset: anyone who knows the webhook URL can post to it',
      );
    }
  }

  authenticate(request: ChannelRequest): void {
    verifySkillRequest(this.config, request.headers, request.rawBody);
  }

  parse(body: unknown): InboundMessage<KakaoSkillPayload> {
    const payload = validateSkillPayload(body);
    const conversation = conversationIdentity(payload);
    const text = payload.userRequest.utterance;
    const callbackUrl = payload.userRequest.callbackUrl ?? null;
    return {
      channel: 'kakao',
      // The conversation's channel is the bot (`bot.id`), for Kakao always.
      botId: conversation.channelId,
      conversation,
      text,
      normalized: { userId: conversation.userId, text, channelId: conversation.channelId },
      payload,
      replyMode: callbackUrl ? 'callback' : 'inline',
      callbackUrl,
      replyWindowMs: callbackUrl ? this.config.callbackTtlSeconds * 1000 : this.config.inlineReplyTimeoutMs,
    };
  }

  admit(message: InboundMessage<KakaoSkillPayload>): void {
    this.admission.admit(message.payload);
  }

  /**
   * The event block's skill request (server-mode §4): Kakao runs the block for the user after the relay's Event
   * API call, with the event data `{"heldId"}`. The held answer is taken in one statement (so two relays, or the
   * next-answer path, cannot send it too) for this bot and this user only, and returned merged as the block's
   * SkillResponse; a held answer that is gone is answered with a short text.
   */
  override answerDirectly(message: InboundMessage<KakaoSkillPayload>): Promise<ChannelAnswer | null> | null {
    const heldId = heldIdOf(message.payload);
    if (!heldId) return null;
    return this.answerHeld(message, heldId);
  }

  private async answerHeld(
    message: InboundMessage<KakaoSkillPayload>,
    heldId: string,
  ): Promise<ChannelAnswer> {
    const replies = await this.held.takeForEventBlock(
      heldId,
      message.conversation.channelId,
      message.payload.userRequest.user.id,
      this.clock.date(),
    );
    if (!replies || replies.length === 0) return { status: 200, body: simpleText(KO.heldAnswerGone) };
    return {
      status: 200,
      body: mergeSkillResponses(replies.map((r) => r.response)).response,
      heldAnswerSent: true,
    };
  }

  answer(
    message: InboundMessage<KakaoSkillPayload>,
    outcome: InboundOutcome,
  ): ChannelAnswer | Promise<ChannelAnswer> {
    switch (outcome.kind) {
      case 'command':
      case 'unpaired':
      case 'refused':
      case 'flood':
        return { status: 200, body: simpleText(outcome.text) };
      case 'unavailable':
        // Still 200 (contract §2): Kakao would show its own error otherwise.
        return {
          status: 200,
          body: simpleText(outcome.text),
          headers:
            outcome.retryAfterSeconds === undefined
              ? undefined
              : { 'Retry-After': String(outcome.retryAfterSeconds) },
        };
      case 'duplicate':
      case 'recorded': // (Kakao has no events other than messages)
        // The same Kakao request again (same callbackUrl): it was stored and handed to the agent once.
        return USE_CALLBACK;
      case 'stored':
        return message.replyMode === 'callback' ? this.handOff(outcome) : this.waitForReply(outcome);
    }
  }

  private async handOff(stored: { handOff(): Promise<void> }): Promise<ChannelAnswer> {
    await stored.handOff();
    return USE_CALLBACK;
  }

  /**
   * Inline mode (no callbackUrl): listen for the reply before the agent can see the message, so a fast reply is
   * never missed; answer with it, or with "not ready yet" when none came within `INLINE_REPLY_TIMEOUT_MS`.
   */
  private async waitForReply(stored: {
    messageId: string;
    handOff(): Promise<void>;
  }): Promise<ChannelAnswer> {
    let wait: InlineWait | null = null;
    try {
      wait = await this.inline.begin(stored.messageId, this.config.inlineReplyTimeoutMs);
    } catch (e) {
      this.logger.warn(`inline wait unavailable: ${(e as Error).message}`);
    }
    await stored.handOff();
    const reply = wait ? await wait.result : null;
    return reply
      ? { status: 200, body: reply }
      : { status: 200, body: simpleText(KO.notReady), replyTimedOut: true };
  }
}
