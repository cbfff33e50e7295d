import { Controller, Get, Query, UseGuards } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { HeldAnswerStore } from '@app/core';
import { AdminAuthGuard } from '@app/platform';
import { PageQueryDto, pageOf } from '../dto/admin.dto';
import { pagedList } from '../paged-list';

const HELD_STATUSES = ['held', 'event_pending', 'claimed', 'sent', 'expired', 'failed'] as const;

export class HeldAnswerListQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: HELD_STATUSES })
  @IsOptional()
  @IsIn(HELD_STATUSES)
  status?: string;
}

/** A held answer and its fate (server-mode §4). */
export class HeldAnswerDto {
  @ApiProperty({
    format: 'uuid',
    description: 'The heldId (the Event API event data); a proactive message id',
  })
  id: string;
  @ApiProperty({ enum: ['late_reply', 'proactive'] }) kind: string;
  @ApiProperty({ format: 'uuid' }) accountId: string;
  @ApiProperty() conversationKey: string;
  @ApiProperty() botId: string;
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) inboundMessageId: string | null;
  @ApiProperty({
    enum: HELD_STATUSES,
    description:
      'held: waits for the next answer; event_pending: the Event API was asked; claimed: going out with a next ' +
      'answer; sent (see sentVia), expired, failed',
  })
  status: string;
  @ApiProperty({ enum: ['event_api', 'next_answer'], nullable: true, type: String }) sentVia: string | null;
  @ApiProperty({ description: 'Replies merged into it' }) replies: number;
  @ApiProperty({ description: 'Event API calls made' }) eventAttempts: number;
  @ApiProperty({ nullable: true, type: String, description: 'Last Event API error' }) error: string | null;
  @ApiProperty() expiresAt: string;
  @ApiProperty() createdAt: string;
  @ApiProperty({ nullable: true, type: String }) sentAt: string | null;
}

export class HeldAnswerPageDto extends pageOf(HeldAnswerDto, 'HeldAnswerPageBase') {}

/** The operator's view of held answers: what waits, what went out and how, what expired. */
@ApiTags('admin')
@ApiBearerAuth('admin')
@ApiUnauthorizedResponse({ description: 'TOKEN_MISSING or INVALID_ADMIN_TOKEN' })
@ApiTooManyRequestsResponse({
  description:
    'RATE_LIMITED: a wrong token after 10 failed admin logins from one client address in 5 minutes',
})
@UseGuards(AdminAuthGuard)
@Controller('admin/api/held-answers')
export class HeldAnswersController {
  constructor(private readonly held: HeldAnswerStore) {}

  @Get()
  @ApiOperation({ summary: 'Held answers (late replies and proactive Kakao messages), newest first' })
  @ApiOkResponse({ type: HeldAnswerPageDto })
  @ApiBadRequestResponse({ description: 'VALIDATION_ERROR (status, limit, cursor)' })
  list(@Query() q: HeldAnswerListQueryDto): Promise<HeldAnswerPageDto> {
    return pagedList(q, (window) => this.held.list(window, q.status ?? null));
  }
}
