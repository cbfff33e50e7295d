import { Module } from '@nestjs/common';
import { PassportModule } from '@nestjs/passport';
import { AdminAuthGuard, AdminAuthService, AdminTokenStrategy } from './admin-auth.guard';
import { AdminTokenService } from './admin-token.service';

/** The operator's credential, for the admin API, the dashboard's API calls and /metrics. */
@Module({
  imports: [PassportModule],
  providers: [AdminTokenService, AdminAuthService, AdminTokenStrategy, AdminAuthGuard],
  exports: [AdminTokenService, AdminAuthService, AdminAuthGuard],
})
export class AdminAuthModule {}
