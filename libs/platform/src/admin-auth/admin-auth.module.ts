import { Global, Module } from '@nestjs/common';
import { PassportModule } from '@nestjs/passport';
import { AdminAuthGuard, AdminTokenStrategy } from './admin-auth.guard';
import { AdminTokenService } from './admin-token.service';

/** The operator's credential, for the admin API, the dashboard's API calls and /metrics. */
@Global()
@Module({
  imports: [PassportModule],
  providers: [AdminTokenService, AdminTokenStrategy, AdminAuthGuard],
  exports: [AdminTokenService, AdminAuthGuard],
})
export class AdminAuthModule {}
