import { ApiProperty } from '@nestjs/swagger';
import {
  IsDefined,
  IsUUID,
  Validate,
  ValidatorConstraint,
  ValidatorConstraintInterface,
} from 'class-validator';
import type { SkillResponse } from '@app/core';

@ValidatorConstraint({ name: 'isSkillResponse' })
export class IsSkillResponseV2 implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return (
      typeof value === 'object' &&
      value !== null &&
      !Array.isArray(value) &&
      (value as { version?: unknown }).version === '2.0'
    );
  }

  defaultMessage(): string {
    return 'response must be a SkillResponse object with version "2.0"';
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
      'A Kakao SkillResponse v2.0; passed to Kakao unchanged (merged with other replies to the message)',
    example: { version: '2.0', template: { outputs: [{ simpleText: { text: '안녕하세요' } }] } },
  })
  @IsDefined()
  @Validate(IsSkillResponseV2)
  response: SkillResponse;
}

export class ReplyAcceptedDto {
  @ApiProperty({ example: true })
  success: true;

  @ApiProperty({ enum: ['accepted'] })
  status: 'accepted';

  @ApiProperty({ format: 'uuid' })
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
