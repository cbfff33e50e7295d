import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import {
  AnswerState,
  botOfConversationKey,
  Clock,
  ConversationStore,
  HeldAnswerStore,
  NotFoundError,
  parseWorksConversationKey,
  SkillResponse,
  UnauthorizedError,
  ValidationError,
} from '@app/core';
import { BotBindings, type AgentPrincipal } from '@app/pairing';
import { skillResponseToWorks, WorksSender } from '@app/works';
import { isWorksReply, ReplyResponse } from './dto/reply.dto';
import { MessageQueuedDto, MessageStateDto, SendMessageDto } from './dto/messages.dto';
import { HeldAnswersService } from './held-answers.service';

const conversationNotFound = () =>
  new NotFoundError('CONVERSATION_NOT_FOUND', 'No conversation with this key is paired to this agent.');

const messageNotFound = () =>
  new NotFoundError('MESSAGE_NOT_FOUND', 'No message with this id exists for this agent.');

function accountOf(agent: AgentPrincipal): string {
  if (!agent.accountId) {
    throw new UnauthorizedError(
      'SESSION_NOT_PAIRED',
      'The session is not paired yet; sending needs a paired session.',
    );
  }
  return agent.accountId;
}

/**
 * Proactive messages and answer status (server-mode §4–§5). Works: handed to the Works send path at once.
 * Kakao: held and delivered through the bot's Event API, or with the conversation's next answer.
 */
@Injectable()
export class MessagesService {
  constructor(
    private readonly conversations: ConversationStore,
    private readonly held: HeldAnswersService,
    private readonly heldStore: HeldAnswerStore,
    private readonly works: WorksSender,
    private readonly clock: Clock,
    private readonly bindings: BotBindings,
  ) {}

  async send(agent: AgentPrincipal, dto: SendMessageDto): Promise<MessageQueuedDto> {
    const accountId = accountOf(agent);
    if ((dto.text === undefined) === (dto.response === undefined)) {
      const message = 'give exactly one of text and response';
      throw new ValidationError(message, [{ field: 'text', message }]);
    }
    const conversation = await this.conversationFor(accountId, dto.conversationKey);
    const response: ReplyResponse = dto.response ?? {
      version: '2.0',
      template: { outputs: [{ simpleText: { text: dto.text } }] },
    };
    const works = parseWorksConversationKey(conversation.conversationKey);
    if (works) {
      const contents = isWorksReply(response) ? [response.works] : skillResponseToWorks(response);
      if (contents.length === 0) {
        const message = 'no output of this SkillResponse converts to a Naver Works message';
        throw new ValidationError(`response: ${message}`, [{ field: 'response', message }]);
      }
      const sends = await this.works.send(works, contents, { accountId });
      return { id: sends[0].id, status: 'queued' };
    }
    if (isWorksReply(response)) {
      const message = '{"works": …} is for a Naver Works conversation; this one is Kakao';
      throw new ValidationError(`response: ${message}`, [{ field: 'response', message }]);
    }
    const id = randomUUID();
    await this.held.holdProactive({
      accountId,
      conversationKey: conversation.conversationKey,
      botId: conversation.botId,
      reply: {
        replyId: id,
        response: response as SkillResponse,
        receivedAt: this.clock.date().toISOString(),
      },
    });
    return { id, status: 'queued' };
  }

  async state(agent: AgentPrincipal, id: string): Promise<MessageStateDto> {
    const state: AnswerState | null = await this.heldStore.answerState(accountOf(agent), id);
    if (!state) throw messageNotFound();
    return state;
  }

  /**
   * The conversation an agent may speak first in (server-mode §5): one paired to its account, or one of a bot bound
   * to it (§3) whose binding lets this user through (`open`, or on the allow-list; a Works room only under `open`)
   * — even before that user wrote, so a bound Works bot can greet anyone. Anything else is 404, like an unknown key.
   */
  private async conversationFor(
    accountId: string,
    conversationKey: string,
  ): Promise<{ conversationKey: string; botId: string }> {
    const bot = botOfConversationKey(conversationKey);
    if (bot) {
      // A room has no one user: only an `open` binding lets it through (no allow-list holds the empty id).
      const access = this.bindings.accessFor(bot.channel, bot.botId, bot.userId ?? '');
      if (access.kind === 'bound' && access.accountId === accountId) {
        return { conversationKey, botId: bot.botId };
      }
    }
    const conversation = await this.conversations.findByKey(conversationKey);
    if (!conversation || conversation.state !== 'paired' || conversation.accountId !== accountId) {
      throw conversationNotFound();
    }
    return { conversationKey, botId: conversation.channelId };
  }
}
