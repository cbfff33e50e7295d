import { Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { CreateSessionResponseDto, SessionStatusResponseDto } from './dto/pairing.dto';
import { PairingService } from './pairing.service';

@ApiTags('pairing')
@Controller('v1/sessions')
export class PairingController {
  constructor(private readonly pairing: PairingService) {}

  @Post('create')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Open a pairing session: a session token (the agent credential) and a pairing code.',
  })
  @ApiOkResponse({ type: CreateSessionResponseDto })
  create(): Promise<CreateSessionResponseDto> {
    return this.pairing.createSession();
  }

  @Get(':sessionToken/status')
  @ApiOperation({ summary: 'Where a pairing session stands. No auth: the token in the path is the secret.' })
  @ApiParam({ name: 'sessionToken', description: '64 lowercase hex characters' })
  @ApiOkResponse({ type: SessionStatusResponseDto })
  @ApiNotFoundResponse({ description: 'SESSION_NOT_FOUND' })
  status(@Param('sessionToken') token: string): Promise<SessionStatusResponseDto> {
    return this.pairing.statusByToken(token);
  }
}
