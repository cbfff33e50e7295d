import { Module } from '@nestjs/common';
import { JwtModule } from '@nestjs/jwt';
import { PersistenceModule } from '@app/persistence';
import { PassportModule } from '@nestjs/passport';
import { RateLimitGuard } from '@app/platform';
import { SessionExpiryModule } from '../session-expiry.module';
import { AccountAuthGuard } from './account-auth.guard';
import { AgentAuthGuard } from './agent-auth.guard';
import { AgentAuthService } from './agent-auth.service';
import { AgentTokenStrategy } from './agent-token.strategy';
import { ApiKeyAuthService } from './api-key-auth.service';
import { ApiKeyUsage } from './api-key-usage';
import { ApiTokenService } from './api-token.service';
import { AuthTokenController } from './auth-token.controller';
import { JwtSigningKey } from './jwt-signing-key';

/**
 * Agent and account authentication: session tokens, account relay tokens and API-key tokens (JWTs) as a
 * passport strategy (`AgentAuthGuard`), the account guard of the server endpoints (`AccountAuthGuard`: those
 * plus the API key pair), and `POST /v1/auth/token`.
 */
@Module({
  imports: [PersistenceModule, PassportModule, SessionExpiryModule, JwtModule.register({})],
  controllers: [AuthTokenController],
  providers: [
    AgentAuthService,
    AgentTokenStrategy,
    AgentAuthGuard,
    AccountAuthGuard,
    ApiKeyAuthService,
    ApiKeyUsage,
    ApiTokenService,
    JwtSigningKey,
    RateLimitGuard,
  ],
  exports: [AgentAuthService, AgentAuthGuard, AccountAuthGuard, ApiKeyAuthService, ApiTokenService],
})
export class AuthModule {}
