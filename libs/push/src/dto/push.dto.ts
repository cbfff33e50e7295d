import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsDefined,
  IsIn,
  IsOptional,
  IsString,
  MaxLength,
} from 'class-validator';
import { PUSH_EVENT_NAMES, PushEventName } from '@app/core';

export class PutPushEndpointDto {
  @ApiProperty({
    example: 'https://agent.example.com/kakao-relay/events',
    description:
      'https only (PUSH_ALLOW_HTTP for tests); no credentials; must resolve to public addresses unless the host ' +
      'is in PUSH_ALLOWED_PRIVATE_HOSTS; redirects are never followed',
  })
  @IsDefined()
  @IsString()
  @MaxLength(2048)
  url: string;

  @ApiPropertyOptional({
    type: [String],
    enum: PUSH_EVENT_NAMES,
    description: 'The SSE event names to push (default: all four; at least one)',
  })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(PUSH_EVENT_NAMES.length)
  @IsIn(PUSH_EVENT_NAMES, { each: true })
  events?: PushEventName[];
}

export class PushEndpointDto {
  @ApiProperty() url: string;
  @ApiProperty({ type: [String], enum: PUSH_EVENT_NAMES }) events: PushEventName[];
  @ApiProperty({ description: 'false once the receiver answered 410 Gone; a PUT enables it again' })
  enabled: boolean;
  @ApiProperty({ type: String, nullable: true }) disabledReason: string | null;
  @ApiProperty({
    type: String,
    nullable: true,
    format: 'date-time',
    description: 'After a rotation: until when the previous secret still signs (a second signature)',
  })
  previousSecretValidUntil: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;
  @ApiPropertyOptional({
    example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    description:
      'The signing secret (`whsec_` + base64 of 32 bytes): only in the answer of the PUT that created the ' +
      'endpoint and of rotate-secret',
  })
  secret?: string;
}

export class PushDeliveryDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) endpointId: string;
  @ApiProperty({ format: 'uuid' }) accountId: string;
  @ApiProperty({ description: 'The webhook-id header: the same on every attempt' }) webhookId: string;
  @ApiProperty({ example: 'message.received' }) eventType: string;
  @ApiProperty({ type: Number, nullable: true }) seq: number | null;
  @ApiProperty({ type: String, nullable: true, format: 'uuid' }) messageId: string | null;
  @ApiProperty({ enum: ['pending', 'delivered', 'failed'] }) status: string;
  @ApiProperty() attempts: number;
  @ApiProperty({ type: Number, nullable: true }) lastHttpStatus: number | null;
  @ApiProperty({ type: String, nullable: true }) lastError: string | null;
  @ApiProperty({ type: Number, nullable: true, description: 'Of the last attempt' }) latencyMs: number | null;
  @ApiProperty({ type: String, nullable: true, description: 'A sync reply the reply path refused' })
  replyError: string | null;
  @ApiProperty({ type: String, nullable: true, format: 'date-time', description: 'Next try (pending only)' })
  nextAttemptAt: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' }) deliveredAt: string | null;
}
