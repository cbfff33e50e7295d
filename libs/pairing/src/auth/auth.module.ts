import { Module } from '@nestjs/common';
import { PersistenceModule } from '@app/persistence';
import { PassportModule } from '@nestjs/passport';
import { SessionExpiryModule } from '../session-expiry.module';
import { AgentAuthGuard } from './agent-auth.guard';
import { AgentAuthService } from './agent-auth.service';
import { AgentTokenStrategy } from './agent-token.strategy';

/** Agent authentication (session token or account relay token) as a passport strategy. */
@Module({
  imports: [PersistenceModule, PassportModule, SessionExpiryModule],
  providers: [AgentAuthService, AgentTokenStrategy, AgentAuthGuard],
  exports: [AgentAuthService, AgentAuthGuard],
})
export class AuthModule {}
