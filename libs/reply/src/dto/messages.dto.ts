import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsNotEmpty, IsOptional, IsString, MaxLength, Validate, ValidateIf } from 'class-validator';
import { IsSkillResponseV2, type ReplyResponse } from './reply.dto';

/** `POST /v1/messages` (server-mode §5): exactly one of `text` and `response`. */
export class SendMessageDto {
  @ApiProperty({
    description: 'The conversation to write to (the `conversationKey` of its message events)',
    example: '5f1b2c3d4e5f6a7b8c9d0e1f:pf-user-key',
  })
  @IsString()
  @IsNotEmpty()
  @MaxLength(600)
  conversationKey: string;

  @ApiPropertyOptional({ description: 'Plain text (a simpleText for Kakao, a text message for Works)' })
  @ValidateIf((o: SendMessageDto) => o.response === undefined || o.text !== undefined)
  @IsString({ message: 'give text (a string) or response' })
  @IsNotEmpty()
  @MaxLength(4000)
  text?: string;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description:
      'A Kakao SkillResponse v2.0 (for Works converted, one message per output), or for a Works conversation ' +
      '`{"works": <Works content object>}` sent as is.',
  })
  @IsOptional()
  @Validate(IsSkillResponseV2)
  response?: ReplyResponse;
}

export class MessageQueuedDto {
  @ApiProperty({ format: 'uuid', description: 'Ask GET /v1/messages/{id} what became of it' }) id: string;
  @ApiProperty({ enum: ['queued'] }) status: 'queued';
}

export class MessageStateDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({
    enum: ['queued', 'sent', 'held', 'failed'],
    description:
      'queued: on its way; held: a Kakao answer waiting for the Event API or the next answer; sent; failed (see error)',
  })
  status: 'queued' | 'sent' | 'held' | 'failed';
  @ApiPropertyOptional() error?: string;
}
