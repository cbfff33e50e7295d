import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Post,
  Put,
  Query,
  UseGuards,
} from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { IsIn, IsOptional, IsUUID } from 'class-validator';
import { PushDeliveryStatus, PushDeliveryStore, PushEndpointStore, ValidationError } from '@app/core';
import { AdminAuthGuard } from '@app/platform';
import {
  PushDeliveryDto,
  PushEndpointDto,
  PushEndpoints,
  PushEndpointView,
  PutPushEndpointDto,
} from '@app/push';
import { pageOf, PageQueryDto } from '../dto/admin.dto';
import { JsonPage, pagedList } from '../paged-list';

const uuid = new ParseUUIDPipe({
  exceptionFactory: () => new ValidationError('The id in the path must be a UUID.'),
});

const STATUSES = ['pending', 'delivered', 'failed'] as const;

export class PushDeliveryQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsUUID('all')
  accountId?: string;

  @ApiPropertyOptional({ enum: STATUSES })
  @IsOptional()
  @IsIn(STATUSES)
  status?: PushDeliveryStatus;
}

export class PushDeliveryPageDto extends pageOf(PushDeliveryDto, 'PushDeliveryPageBase') {}

export class FailingPushEndpointDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) accountId: string;
  @ApiProperty() url: string;
  @ApiProperty() enabled: boolean;
  @ApiProperty({ type: String, nullable: true }) disabledReason: string | null;
  @ApiProperty({ description: 'Deliveries that failed for good' }) failed: number;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;
}

/** The push endpoints of accounts and the delivery log, for the operator (server-mode §2). */
@ApiTags('admin: push')
@ApiBearerAuth('admin')
@ApiUnauthorizedResponse({ description: 'TOKEN_MISSING or INVALID_ADMIN_TOKEN' })
@ApiTooManyRequestsResponse({
  description:
    'RATE_LIMITED: a wrong token after 10 failed admin logins from one client address in 5 minutes',
})
@UseGuards(AdminAuthGuard)
@Controller('admin/api')
export class PushAdminController {
  constructor(
    private readonly endpoints: PushEndpoints,
    private readonly store: PushEndpointStore,
    private readonly deliveries: PushDeliveryStore,
  ) {}

  @Put('accounts/:accountId/push-endpoint')
  @ApiOperation({
    summary: "Set an account's push endpoint (as PUT /v1/push-endpoint: the secret only when created)",
  })
  @ApiOkResponse({ type: PushEndpointDto })
  @ApiBadRequestResponse({ description: 'VALIDATION_ERROR, or PUSH_URL_REFUSED' })
  @ApiNotFoundResponse({ description: 'ACCOUNT_NOT_FOUND' })
  put(
    @Param('accountId', uuid) accountId: string,
    @Body() body: PutPushEndpointDto,
  ): Promise<PushEndpointView> {
    return this.endpoints.put(accountId, body.url, body.events);
  }

  @Get('accounts/:accountId/push-endpoint')
  @ApiOperation({ summary: "An account's push endpoint (without its secret)" })
  @ApiOkResponse({ type: PushEndpointDto })
  @ApiNotFoundResponse({ description: 'PUSH_ENDPOINT_NOT_FOUND' })
  get(@Param('accountId', uuid) accountId: string): Promise<PushEndpointView> {
    return this.endpoints.get(accountId);
  }

  @Delete('accounts/:accountId/push-endpoint')
  @HttpCode(204)
  @ApiOperation({ summary: "Remove an account's push endpoint" })
  @ApiNoContentResponse()
  @ApiNotFoundResponse({ description: 'PUSH_ENDPOINT_NOT_FOUND' })
  delete(@Param('accountId', uuid) accountId: string): Promise<void> {
    return this.endpoints.delete(accountId);
  }

  @Post('accounts/:accountId/push-endpoint/rotate-secret')
  @HttpCode(200)
  @ApiOperation({ summary: 'Rotate the signing secret (the old one signs too for 24 h)' })
  @ApiOkResponse({ type: PushEndpointDto })
  @ApiNotFoundResponse({ description: 'PUSH_ENDPOINT_NOT_FOUND' })
  rotate(@Param('accountId', uuid) accountId: string): Promise<PushEndpointView> {
    return this.endpoints.rotateSecret(accountId);
  }

  @Get('push-endpoints/failing')
  @ApiOperation({
    summary: 'Endpoints that are disabled (410) or have failed or retrying deliveries (the dashboard)',
  })
  @ApiOkResponse({ type: FailingPushEndpointDto, isArray: true })
  async failing(): Promise<FailingPushEndpointDto[]> {
    const rows = await this.store.failing(50);
    return rows.map((r) => ({
      id: r.id,
      accountId: r.accountId,
      url: r.url,
      enabled: r.enabled,
      disabledReason: r.disabledReason,
      failed: r.failed,
      updatedAt: r.updatedAt.toISOString(),
    }));
  }

  @Get('push-deliveries')
  @ApiOperation({
    summary: 'The push delivery log, newest first (attempts, last status, latency, next try)',
    description:
      'A delivery appears once its first attempt has ended (the live path attempts before it stores), or at once when it waits on the queue.',
  })
  @ApiOkResponse({ type: PushDeliveryPageDto })
  @ApiBadRequestResponse({ description: 'VALIDATION_ERROR (accountId, status, limit, cursor)' })
  list(@Query() q: PushDeliveryQueryDto): Promise<JsonPage<Omit<PushDeliveryDto, 'body'>>> {
    return pagedList(q, async (window) =>
      (await this.deliveries.list({ accountId: q.accountId, status: q.status }, window)).map(
        ({ body: _body, ...rest }) => rest,
      ),
    ) as Promise<JsonPage<Omit<PushDeliveryDto, 'body'>>>;
  }

  @Post('push-deliveries/:deliveryId/redeliver')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'A new attempt of a delivered or failed delivery, with the same webhook-id (the receiver dedupes)',
  })
  @ApiOkResponse({ type: PushDeliveryDto })
  @ApiNotFoundResponse({ description: 'PUSH_DELIVERY_NOT_FOUND' })
  async redeliver(@Param('deliveryId', uuid) deliveryId: string): Promise<PushDeliveryDto> {
    const { body: _body, ...delivery } = await this.endpoints.redeliver(deliveryId);
    return {
      ...delivery,
      nextAttemptAt: delivery.nextAttemptAt?.toISOString() ?? null,
      createdAt: delivery.createdAt.toISOString(),
      deliveredAt: delivery.deliveredAt?.toISOString() ?? null,
    };
  }
}
