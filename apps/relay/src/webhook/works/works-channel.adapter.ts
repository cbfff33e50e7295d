import { Inject, Injectable } from '@nestjs/common';
import { createHmac } from 'node:crypto';
import { RELAY_CONFIG, RelayConfig } from '@app/config';
import {
  ChannelAdapter,
  ChannelAnswer,
  ChannelRequest,
  constantTimeEquals,
  ForbiddenError,
  InboundMessage,
  InboundOutcome,
  NotFoundError,
  RelayError,
  UnauthorizedError,
  WorksBotStore,
  WorksTarget,
} from '@app/core';
import { WorksSender } from '@app/works';
import { readWorksCallback, WorksCallbackBody } from './works-callback';

/** `POST /works/callback` takes bodies up to 1 MiB. */
export const WORKS_CALLBACK_BODY_LIMIT_BYTES = 1024 * 1024;

/** What Works is answered once the event is durably stored (or recorded, or was already): it waits for no content. */
const ACCEPTED: ChannelAnswer = Object.freeze({ status: 200, body: {} });

function header(request: ChannelRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Naver Works (LINE WORKS) bot callbacks (works-channel.md §2). A request names its bot (`X-WORKS-BotId`) and is
 * signed with the bot's secret (`X-WORKS-Signature`: base64 HMAC-SHA256 of the raw body); an unknown bot is 404, a
 * missing or wrong signature 401, a disabled bot 403, all decided before the body is judged. Conversations are
 * `works:<botId>:<userId>` (one-to-one) or `works:<botId>:channel:<channelId>` (a room); `join`/`leave`/`joined`/
 * `left` are recorded only. Works waits for no content: the answer is 200 `{}` once the event is stored, and what
 * the relay says to the user (the pairing hint, a command's answer, "slow down") goes out through the send API.
 * When the relay cannot store the event it answers 503, so that Works delivers it again.
 */
@Injectable()
export class WorksChannelAdapter extends ChannelAdapter<WorksCallbackBody> {
  readonly channel = 'works';
  readonly path = '/works/callback';
  readonly bodyLimitBytes = WORKS_CALLBACK_BODY_LIMIT_BYTES;
  /** Where the answer to a message's user goes, kept from `parse` to `answer`. */
  private readonly targets = new WeakMap<object, WorksTarget>();

  constructor(
    @Inject(RELAY_CONFIG) private readonly config: RelayConfig,
    private readonly bots: WorksBotStore,
    private readonly sender: WorksSender,
  ) {
    super();
  }

  async authenticate(request: ChannelRequest): Promise<void> {
    const botId = header(request, 'x-works-botid');
    const bot = botId ? await this.bots.findByBotId(botId) : null;
    if (!bot) throw new NotFoundError('BOT_NOT_FOUND', 'No Works bot with this X-WORKS-BotId is registered.');
    const sent = header(request, 'x-works-signature');
    const expected = createHmac('sha256', bot.botSecret).update(request.rawBody).digest('base64');
    if (sent === undefined || !constantTimeEquals(sent.trim(), expected)) {
      throw new UnauthorizedError(
        'INVALID_SIGNATURE',
        'X-WORKS-Signature is missing or does not match the body.',
      );
    }
    if (!bot.enabled) throw new ForbiddenError('BOT_DISABLED', 'This Works bot is disabled on the relay.');
  }

  parse(body: unknown, request: ChannelRequest): InboundMessage<WorksCallbackBody> {
    // authenticate() found the bot by this header.
    const callback = readWorksCallback(header(request, 'x-works-botid') as string, body, request.rawBody);
    this.targets.set(callback.body, callback.target);
    return {
      channel: 'works',
      botId: callback.botId,
      conversation: callback.conversation,
      text: callback.text,
      normalized: callback.normalized,
      payload: callback.body,
      // The agent's answer goes out through the send API, whenever it comes.
      replyMode: 'callback',
      callbackUrl: null,
      replyWindowMs: this.config.queueTtlSeconds * 1000,
      dedupeKey: callback.dedupeKey,
      event: callback.event,
    };
  }

  admit(): void {
    // Which bots are served is decided in authenticate (registered, signed, enabled).
  }

  async answer(message: InboundMessage<WorksCallbackBody>, outcome: InboundOutcome): Promise<ChannelAnswer> {
    switch (outcome.kind) {
      case 'command':
      case 'unpaired':
      case 'refused':
      case 'flood':
        await this.sender.send(this.targetOf(message), [{ type: 'text', text: outcome.text }], {
          accountId: null,
          messageId: null,
        });
        return ACCEPTED;
      case 'unavailable':
        // Nothing stored: a non-2xx answer makes Works deliver the event again.
        throw new RelayError(
          503,
          'TEMPORARILY_UNAVAILABLE',
          'The relay cannot take the event right now; deliver it again.',
          undefined,
          { 'Retry-After': String(outcome.retryAfterSeconds ?? 5) },
        );
      case 'stored':
        await outcome.handOff();
        return ACCEPTED;
      case 'duplicate':
      case 'recorded':
        return ACCEPTED;
    }
  }

  private targetOf(message: InboundMessage<WorksCallbackBody>): WorksTarget {
    return this.targets.get(message.payload) as WorksTarget;
  }
}
