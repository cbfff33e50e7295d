import { ApiProperty } from '@nestjs/swagger';
import {
  IsDefined,
  IsUUID,
  Validate,
  ValidationArguments,
  ValidatorConstraint,
  ValidatorConstraintInterface,
} from 'class-validator';
import type { SkillResponse } from '@app/core';
import { isWorksPassThrough, type WorksPassThrough } from '@app/works';

/** What an agent may answer: a Kakao SkillResponse (any channel), or Works content sent as is (Works only). */
export type ReplyResponse = SkillResponse | WorksPassThrough;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A `{"works": …}` reply: no SkillResponse `version` "2.0" (a SkillResponse that happens to carry a `works` field
 * stays a SkillResponse, as it always was for Kakao).
 */
export function isWorksReply(response: ReplyResponse): response is WorksPassThrough {
  return (response as { version?: unknown }).version !== '2.0' && isWorksPassThrough(response);
}

@ValidatorConstraint({ name: 'isSkillResponse' })
export class IsSkillResponseV2 implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    if (!isObject(value)) return false;
    if (value.version === '2.0') return true;
    return 'works' in value && isWorksPassThrough(value);
  }

  defaultMessage(args?: ValidationArguments): string {
    const value: unknown = args?.value;
    if (isObject(value) && 'works' in value && value.version !== '2.0') {
      return 'response.works must be a Works content object with a string "type"';
    }
    return 'response must be a SkillResponse object with version "2.0", or {"works": <Works content>}';
  }
}

export class ReplyDto {
  @ApiProperty({ format: 'uuid', description: 'The `id` of the message event being answered' })
  @IsDefined()
  @IsUUID('all', { message: 'messageId must be a UUID' })
  messageId: string;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description:
      'A Kakao SkillResponse v2.0: for a Kakao message passed to Kakao unchanged (merged with other replies to ' +
      'the message); for a Naver Works message converted to Works messages, one per output. Or, for a Works ' +
      'message only, `{"works": <Works content object>}` (an object with a string `type`), sent to Works as is; ' +
      'for a Kakao message that form is 400 VALIDATION_ERROR.',
    example: { version: '2.0', template: { outputs: [{ simpleText: { text: '안녕하세요' } }] } },
  })
  @IsDefined()
  @Validate(IsSkillResponseV2)
  response: ReplyResponse;
}

export class ReplyAcceptedDto {
  @ApiProperty({ example: true })
  success: true;

  @ApiProperty({
    enum: ['accepted', 'held'],
    description:
      '`held` (Kakao, LATE_REPLIES=hold): the callback was used or its deadline passed; the answer is kept and ' +
      "delivered by the bot's Event API or with the conversation's next answer (see GET /v1/messages/{id}).",
  })
  status: 'accepted' | 'held';

  @ApiProperty({
    format: 'uuid',
    description:
      "Kakao: the id of this reply within the message's coalesced send. Naver Works: the id of the first Works " +
      'message stored for this reply (a row of works_sends).',
  })
  replyId: string;
}

export class ReplyDeliveredDto {
  @ApiProperty({ example: true })
  success: true;

  @ApiProperty({
    description: 'When Kakao accepted the callback (epoch milliseconds)',
    example: 1795400000000,
  })
  deliveredAt: number;
}
