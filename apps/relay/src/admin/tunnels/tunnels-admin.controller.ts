import {
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  PipeTransform,
  Post,
  Query,
  UseGuards,
} from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { ConflictError, NotFoundError, TunnelStore, uuidV7 } from '@app/core';
import { AdminAuthGuard } from '@app/platform';
import { TunnelHub, tunnelNotFound, TunnelService } from '@app/tunnels';
import { PageQueryDto } from '../dto/admin.dto';
import { JsonPage, pagedList } from '../paged-list';
import { toJson } from '../page-cursor';
import { AdminTunnelPageDto, TunnelRequestLogDto, TunnelRequestPageDto } from './tunnel-admin.dto';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** An id no row can have is answered like an unknown one (404), as null. */
const idParam: PipeTransform<string, string | null> = {
  transform: (value: string) => (UUID.test(value) ? value.toLowerCase() : null),
};

@ApiTags('admin: tunnels')
@ApiBearerAuth('admin')
@ApiUnauthorizedResponse({ description: 'TOKEN_MISSING or INVALID_ADMIN_TOKEN' })
@ApiTooManyRequestsResponse({
  description:
    'RATE_LIMITED: a wrong token after 10 failed admin logins from one client address in 5 minutes',
})
@UseGuards(AdminAuthGuard)
@Controller('admin/api/tunnels')
export class TunnelsAdminController {
  constructor(
    private readonly tunnels: TunnelService,
    private readonly store: TunnelStore,
    private readonly hub: TunnelHub,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Every tunnel, newest first' })
  @ApiOkResponse({ type: AdminTunnelPageDto })
  @ApiBadRequestResponse({ description: 'VALIDATION_ERROR (limit, cursor)' })
  list(@Query() q: PageQueryDto): Promise<JsonPage<unknown>> {
    return pagedList(q, (window) => this.store.listAll(window));
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete any tunnel (its socket is closed, its stored requests and log go)' })
  @ApiNoContentResponse()
  @ApiNotFoundResponse({ description: 'TUNNEL_NOT_FOUND' })
  remove(@Param('id', idParam) id: string | null): Promise<void> {
    return this.tunnels.delete(id);
  }

  @Get(':id/requests')
  @ApiOperation({
    summary: "A tunnel's request log, newest first (method, path, status, latency, size; no bodies)",
  })
  @ApiOkResponse({ type: TunnelRequestPageDto })
  @ApiBadRequestResponse({ description: 'VALIDATION_ERROR (limit, cursor)' })
  @ApiNotFoundResponse({ description: 'TUNNEL_NOT_FOUND' })
  async requests(
    @Param('id', idParam) id: string | null,
    @Query() q: PageQueryDto,
  ): Promise<JsonPage<unknown>> {
    if (id === null || !(await this.store.findById(id))) throw tunnelNotFound();
    return pagedList(q, (window) => this.store.listRequests(id, window));
  }

  @Post(':id/requests/:requestId/replay')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Deliver a stored request of a durable tunnel again',
    description:
      'A copy of the request (same method, path, headers and body) is stored as pending at the end of the ' +
      'queue and delivered like a new one; the answer is its log row.',
  })
  @ApiAcceptedResponse({ type: TunnelRequestLogDto })
  @ApiNotFoundResponse({
    description: 'TUNNEL_NOT_FOUND or TUNNEL_REQUEST_NOT_FOUND (also past the retention)',
  })
  @ApiConflictResponse({ description: 'TUNNEL_NOT_DURABLE: live tunnels keep no bodies to replay' })
  async replay(
    @Param('id', idParam) id: string | null,
    @Param('requestId', idParam) requestId: string | null,
  ): Promise<unknown> {
    const tunnel = id === null ? null : await this.store.findById(id);
    if (!tunnel) throw tunnelNotFound();
    if (tunnel.mode !== 'durable') {
      throw new ConflictError('TUNNEL_NOT_DURABLE', 'Only a durable tunnel keeps its requests to replay.');
    }
    const copy = requestId === null ? null : await this.store.replay(tunnel.id, requestId, uuidV7());
    if (!copy)
      throw new NotFoundError('TUNNEL_REQUEST_NOT_FOUND', 'The tunnel has no stored request with this id.');
    await this.hub.wake(tunnel.id);
    return toJson(copy);
  }
}
