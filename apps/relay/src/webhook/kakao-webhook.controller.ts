import { Body, Controller, HttpCode, Post, Res, UseGuards } from '@nestjs/common';
import type { Response } from 'express';
import {
  ApiBody,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiPayloadTooLargeResponse,
  ApiTags,
  ApiUnauthorizedResponse,
  ApiBadRequestResponse,
  ApiForbiddenResponse,
} from '@nestjs/swagger';
import { KakaoSkillPayload, SkillResponse } from '@app/core';
import { SkillPayloadDto, SkillResponseDto } from './dto/skill-payload.dto';
import { SkillAuthGuard } from './skill-auth.guard';
import { SkillPayloadPipe } from './skill-payload.pipe';
import { WebhookService } from './webhook.service';

@ApiTags('kakao')
@Controller('kakao')
export class KakaoWebhookController {
  constructor(private readonly webhook: WebhookService) {}

  @Post('webhook')
  @HttpCode(200)
  @UseGuards(SkillAuthGuard)
  @ApiOperation({
    summary: 'Kakao i OpenBuilder skill endpoint',
    description:
      'Always 200 with a SkillResponse v2.0 once authenticated and parseable: relay commands are answered in ' +
      'Korean, paired users’ messages are stored and handed to the agent (useCallback, or inline within ' +
      'INLINE_REPLY_TIMEOUT_MS when the request has no callbackUrl). Refused before anything is stored: ' +
      'ids longer than 256 characters and a callbackUrl over 1 KiB or outside the callback policy (400), a ' +
      'bot.id not in KAKAO_ALLOWED_BOT_IDS when that is set (403).',
  })
  @ApiHeader({
    name: 'X-Relay-Skill-Secret',
    required: false,
    description: 'Required when KAKAO_SKILL_SECRET is set',
  })
  @ApiHeader({
    name: 'X-Kakao-Signature',
    required: false,
    description: 'Required when KAKAO_SIGNATURE_SECRET is set',
  })
  @ApiBody({ type: SkillPayloadDto })
  @ApiOkResponse({
    type: SkillResponseDto,
    description:
      'Also when the relay cannot take the message right now (database away, or STORE_QUEUE_MAX messages ' +
      'already waiting to be stored): a simpleText saying the service is temporarily unavailable, nothing ' +
      'stored; the busy case carries Retry-After: 1.',
    headers: {
      'Retry-After': {
        description: 'Seconds; only when the store queue was full',
        schema: { type: 'integer' },
      },
    },
  })
  @ApiBadRequestResponse({
    description:
      'VALIDATION_ERROR: not JSON; no userRequest.user.id / utterance; userRequest.user.id, a string ' +
      'plusfriendUserKey or bot.id longer than 256 characters; a callbackUrl over 1 KiB or one the callback ' +
      'policy refuses without DNS (scheme, KAKAO_CALLBACK_ALLOWED_HOSTS, port, credentials, non-public IP ' +
      'literal). Nothing is stored.',
  })
  @ApiUnauthorizedResponse({ description: 'INVALID_SKILL_SECRET or INVALID_SIGNATURE' })
  @ApiForbiddenResponse({
    description:
      'BOT_NOT_ALLOWED: KAKAO_ALLOWED_BOT_IDS is set and bot.id is missing or not listed (decided after ' +
      'authentication; nothing is stored).',
  })
  @ApiPayloadTooLargeResponse({ description: 'PAYLOAD_TOO_LARGE: body over 1 MiB' })
  async receive(
    @Body(SkillPayloadPipe) body: Record<string, unknown>,
    @Res({ passthrough: true }) res: Response,
  ): Promise<SkillResponse> {
    const answer = await this.webhook.handle(body as unknown as KakaoSkillPayload);
    if (answer.headers) res.set(answer.headers);
    return answer.response;
  }
}
