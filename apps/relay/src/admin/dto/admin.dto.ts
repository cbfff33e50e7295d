import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, IsUUID, Matches, Max, MaxLength, Min } from 'class-validator';

export const SESSION_STATUS_VALUES = ['pending_pairing', 'paired', 'expired', 'disconnected'] as const;
export const CONVERSATION_STATE_VALUES = ['paired', 'unpaired'] as const;
export const INBOUND_STATUS_VALUES = ['queued', 'delivered', 'replied', 'expired', 'failed'] as const;
export const OUTBOUND_STATUS_VALUES = ['pending', 'sent', 'failed'] as const;

export class PageQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 25 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  limit?: number;

  @ApiPropertyOptional({ description: 'nextCursor of the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  @Matches(/^[A-Za-z0-9_-]+$/, { message: 'cursor is not valid' })
  cursor?: string;
}

export class AccountFilterDto extends PageQueryDto {
  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsUUID('all')
  accountId?: string;
}

export class SessionListQueryDto extends AccountFilterDto {
  @ApiPropertyOptional({ enum: SESSION_STATUS_VALUES })
  @IsOptional()
  @IsIn(SESSION_STATUS_VALUES)
  status?: string;
}

export class ConversationListQueryDto extends AccountFilterDto {
  @ApiPropertyOptional({ enum: CONVERSATION_STATE_VALUES })
  @IsOptional()
  @IsIn(CONVERSATION_STATE_VALUES)
  state?: string;
}

export class InboundListQueryDto extends AccountFilterDto {
  @ApiPropertyOptional({ enum: INBOUND_STATUS_VALUES })
  @IsOptional()
  @IsIn(INBOUND_STATUS_VALUES)
  status?: string;
}

export class OutboundListQueryDto extends AccountFilterDto {
  @ApiPropertyOptional({ enum: OUTBOUND_STATUS_VALUES })
  @IsOptional()
  @IsIn(OUTBOUND_STATUS_VALUES)
  status?: string;
}

export class CreateAdminSessionDto {
  @ApiPropertyOptional({
    format: 'uuid',
    description:
      'Bind the session to an existing account, so that another Kakao user pairs with the same agent',
  })
  @IsOptional()
  @IsUUID('all')
  accountId?: string;
}

class CountsBySessionStatus {
  @ApiProperty() pending_pairing: number;
  @ApiProperty() paired: number;
  @ApiProperty() expired: number;
  @ApiProperty() disconnected: number;
}

class CountsByConversationState {
  @ApiProperty() paired: number;
  @ApiProperty() unpaired: number;
}

class InboundCounts {
  @ApiProperty() total: number;
  @ApiProperty() queued: number;
  @ApiProperty() delivered: number;
  @ApiProperty() replied: number;
  @ApiProperty() expired: number;
  @ApiProperty() failed: number;
}

class OutboundCounts {
  @ApiProperty() total: number;
  @ApiProperty() pending: number;
  @ApiProperty() sent: number;
  @ApiProperty() failed: number;
}

class StreamCounts {
  @ApiProperty({ description: 'Open agent streams across all replicas' }) connected: number;
  @ApiProperty({ description: 'Replicas that reported in the last 15 s' }) replicas: number;
}

export class CleanupRunDto {
  @ApiProperty() startedAt: string;
  @ApiProperty() finishedAt: string;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'number' } }) results: Record<string, number>;
}

export class OverviewDto {
  @ApiProperty() accounts: number;
  @ApiProperty({ type: CountsBySessionStatus }) sessions: CountsBySessionStatus;
  @ApiProperty({ type: CountsByConversationState }) conversations: CountsByConversationState;
  @ApiProperty({ type: InboundCounts }) inbound: InboundCounts;
  @ApiProperty({ type: OutboundCounts }) outbound: OutboundCounts;
  @ApiProperty({ type: StreamCounts }) streams: StreamCounts;
  @ApiProperty({ type: CleanupRunDto, nullable: true }) lastCleanup: CleanupRunDto | null;
  @ApiProperty() generatedAt: string;
}

export class AccountDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() createdAt: string;
  @ApiProperty() hasRelayToken: boolean;
  @ApiProperty({ description: 'Last message sequence number' }) lastSeq: number;
  @ApiProperty() pairedConversations: number;
  @ApiProperty() conversations: number;
  @ApiProperty({ description: 'Pending or paired sessions' }) liveSessions: number;
  @ApiProperty({ nullable: true, type: String }) lastMessageAt: string | null;
}

export class AccountDetailDto extends AccountDto {
  @ApiProperty({ type: 'object', additionalProperties: { type: 'number' } }) inbound: Record<string, number>;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'number' } }) outbound: Record<string, number>;
}

export class ConversationDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() conversationKey: string;
  @ApiProperty() channelId: string;
  @ApiProperty() userId: string;
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) accountId: string | null;
  @ApiProperty({ enum: CONVERSATION_STATE_VALUES }) state: string;
  @ApiProperty({ nullable: true, type: String }) pairedAt: string | null;
  @ApiProperty({ nullable: true, type: String }) unpairedAt: string | null;
  @ApiProperty() createdAt: string;
}

export class SessionDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ enum: SESSION_STATUS_VALUES }) status: string;
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) accountId: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'XXXX-XXXX while pending and unexpired' })
  pairingCode: string | null;
  @ApiProperty() expiresAt: string;
  @ApiProperty({ nullable: true, type: String }) pairedAt: string | null;
  @ApiProperty({ nullable: true, type: String }) kakaoUserId: string | null;
  @ApiProperty({ nullable: true, type: String }) conversationKey: string | null;
  @ApiProperty() createdAt: string;
}

export class InboundMessageDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) accountId: string;
  @ApiProperty() seq: number;
  @ApiProperty() conversationKey: string;
  @ApiProperty() text: string;
  @ApiProperty() userId: string;
  @ApiProperty({ enum: INBOUND_STATUS_VALUES }) status: string;
  @ApiProperty({ description: 'false in inline mode' }) hasCallback: boolean;
  @ApiProperty() createdAt: string;
  @ApiProperty({
    nullable: true,
    type: String,
    description:
      'Set only on messages delivered before migration DeliveryMarks1795000000003: the relay now records delivery ' +
      'per account, as the highest sequence number written to a stream; `status` says whether it was delivered.',
  })
  deliveredAt: string | null;
  @ApiProperty({ nullable: true, type: String }) repliedAt: string | null;
}

export class OutboundMessageDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid', description: 'The inbound message answered' }) messageId: string;
  @ApiProperty({ format: 'uuid' }) accountId: string;
  @ApiProperty({ enum: ['callback', 'inline'] }) mode: string;
  @ApiProperty({ enum: OUTBOUND_STATUS_VALUES }) status: string;
  @ApiProperty({ description: 'Replies coalesced into this send' }) replies: number;
  @ApiProperty() attempts: number;
  @ApiProperty({ nullable: true, type: Number }) lastHttpStatus: number | null;
  @ApiProperty({ nullable: true, type: String }) error: string | null;
  @ApiProperty({
    nullable: true,
    type: 'object',
    additionalProperties: true,
    description: 'The merged SkillResponse',
  })
  response: unknown;
  @ApiProperty() createdAt: string;
  @ApiProperty({ nullable: true, type: String }) sentAt: string | null;
  @ApiProperty({ nullable: true, type: String }) failedAt: string | null;
}

export function pageOf<T>(item: new () => T, name: string) {
  class PageDto {
    @ApiProperty({ type: item, isArray: true }) items: T[];
    @ApiProperty({ nullable: true, type: String, description: 'Pass as `cursor` for the next page' })
    nextCursor: string | null;
  }
  Object.defineProperty(PageDto, 'name', { value: name });
  return PageDto;
}

export class AccountPageDto extends pageOf(AccountDto, 'AccountPageBase') {}
export class ConversationPageDto extends pageOf(ConversationDto, 'ConversationPageBase') {}
export class SessionPageDto extends pageOf(SessionDto, 'SessionPageBase') {}
export class InboundPageDto extends pageOf(InboundMessageDto, 'InboundPageBase') {}
export class OutboundPageDto extends pageOf(OutboundMessageDto, 'OutboundPageBase') {}

export class RelayTokenDto {
  @ApiProperty({ format: 'uuid' }) accountId: string;
  @ApiProperty({ description: 'Shown once; the previous relay token of the account stops working' })
  relayToken: string;
}

export class AdminCreatedSessionDto {
  @ApiProperty({ format: 'uuid' }) sessionId: string;
  @ApiProperty() sessionToken: string;
  @ApiProperty({ example: 'ABCD-2345' }) pairingCode: string;
  @ApiProperty() expiresIn: number;
  @ApiProperty({ enum: ['pending_pairing'] }) status: 'pending_pairing';
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) accountId: string | null;
}

export class SessionStateDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ enum: SESSION_STATUS_VALUES }) status: string;
}
