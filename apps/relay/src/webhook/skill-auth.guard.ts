import { CanActivate, ExecutionContext, Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { RELAY_CONFIG, RelayConfig } from '@app/config';
import { RawBodyRequest } from '@app/platform';
import { verifySkillRequest } from './skill-auth';

/** Optional webhook authentication (`verifySkillRequest`); warns at start when it is off. */
@Injectable()
export class SkillAuthGuard implements CanActivate, OnModuleInit {
  private readonly logger = new Logger('KakaoWebhook');

  constructor(@Inject(RELAY_CONFIG) private readonly config: RelayConfig) {}

  onModuleInit(): void {
    if (!this.config.kakaoSkillSecret && !this.config.kakaoSignatureSecret) {
      this.logger.warn(
        'KAKAO_SKILL_SECRET and KAKAO_SIGNATURE_SECRET are unset: anyone who knows the webhook URL can post to it',
      );
    }
  }

  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<RawBodyRequest>();
    verifySkillRequest(this.config, req.headers, req.rawBody);
    // Authenticated: now a body problem the parser deferred may be told (before validation runs on nothing).
    if (req.bodyError) throw req.bodyError;
    return true;
  }
}
