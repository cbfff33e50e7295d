import { Body, Controller, Delete, Get, HttpCode, Post, Put, UseGuards } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiSecurity,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { AccountAuthGuard, AccountPrincipal, AgentPrincipal, API_KEY_PAIR_SECURITY } from '@app/pairing';
import { PushEndpointDto, PutPushEndpointDto } from './dto/push.dto';
import { PushEndpoints, PushEndpointView } from './push-endpoints.service';

const UNAUTHORIZED =
  'Invalid token or API key pair, or SESSION_NOT_PAIRED (a pending session has no account)';

type Account = AgentPrincipal & { accountId: string };

/** The account's push endpoint (server-mode §2): events POSTed to the agent's server, signed per Standard Webhooks. */
@ApiTags('agent: push')
@ApiBearerAuth('agent')
@ApiSecurity(API_KEY_PAIR_SECURITY)
@ApiUnauthorizedResponse({ description: UNAUTHORIZED })
@UseGuards(AccountAuthGuard)
@Controller('v1/push-endpoint')
export class PushEndpointController {
  constructor(private readonly endpoints: PushEndpoints) {}

  @Put()
  @ApiOperation({
    summary: 'Set the push endpoint',
    description:
      'Creates the endpoint (the answer carries its signing `secret`, shown this once), or changes the URL and ' +
      'events of the existing one (no `secret` in the answer; the secret is unchanged) and enables it again if ' +
      'a 410 disabled it. Every event then becomes a POST with webhook-id, webhook-timestamp and ' +
      'webhook-signature (Standard Webhooks).',
  })
  @ApiOkResponse({ type: PushEndpointDto })
  @ApiBadRequestResponse({ description: 'VALIDATION_ERROR, or PUSH_URL_REFUSED naming the URL rule broken' })
  put(@AccountPrincipal() agent: Account, @Body() body: PutPushEndpointDto): Promise<PushEndpointView> {
    return this.endpoints.put(agent.accountId, body.url, body.events);
  }

  @Get()
  @ApiOperation({ summary: 'The push endpoint (without its secret)' })
  @ApiOkResponse({ type: PushEndpointDto })
  @ApiNotFoundResponse({ description: 'PUSH_ENDPOINT_NOT_FOUND' })
  get(@AccountPrincipal() agent: Account): Promise<PushEndpointView> {
    return this.endpoints.get(agent.accountId);
  }

  @Delete()
  @HttpCode(204)
  @ApiOperation({ summary: 'Remove the push endpoint (pending deliveries are dropped)' })
  @ApiNoContentResponse()
  @ApiNotFoundResponse({ description: 'PUSH_ENDPOINT_NOT_FOUND' })
  delete(@AccountPrincipal() agent: Account): Promise<void> {
    return this.endpoints.delete(agent.accountId);
  }

  @Post('rotate-secret')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Rotate the signing secret',
    description:
      'Answers the new secret (shown this once). For 24 hours every delivery carries two signatures, one per ' +
      'secret, so a receiver still holding the old secret keeps verifying.',
  })
  @ApiOkResponse({ type: PushEndpointDto })
  @ApiNotFoundResponse({ description: 'PUSH_ENDPOINT_NOT_FOUND' })
  rotate(@AccountPrincipal() agent: Account): Promise<PushEndpointView> {
    return this.endpoints.rotateSecret(agent.accountId);
  }
}
