import { CanActivate, ExecutionContext, Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { createHmac } from 'node:crypto';
import { RELAY_CONFIG, RelayConfig } from '@app/config';
import { constantTimeEquals, UnauthorizedError } from '@app/core';
import { RawBodyRequest } from '@app/platform';

/**
 * Optional webhook authentication (contract §2): a fixed secret header the skill is configured to send, and/or
 * an HMAC-SHA256 of the raw body. Both compared in constant time; off (with a warning) when unset.
 */
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
    const { kakaoSkillSecret, kakaoSignatureSecret } = this.config;
    if (kakaoSkillSecret) {
      const sent = req.headers['x-relay-skill-secret'];
      if (typeof sent !== 'string' || !constantTimeEquals(sent, kakaoSkillSecret)) {
        throw new UnauthorizedError(
          'INVALID_SKILL_SECRET',
          'The X-Relay-Skill-Secret header is missing or wrong.',
        );
      }
    }
    if (kakaoSignatureSecret) {
      const sent = req.headers['x-kakao-signature'];
      const expected = createHmac('sha256', kakaoSignatureSecret)
        .update(req.rawBody ?? Buffer.alloc(0))
        .digest('hex');
      if (typeof sent !== 'string' || !constantTimeEquals(sent.trim().toLowerCase(), expected)) {
        throw new UnauthorizedError('INVALID_SIGNATURE', 'The X-Kakao-Signature header is missing or wrong.');
      }
    }
    // Authenticated: now a body problem the parser deferred may be told (before validation runs on nothing).
    if (req.bodyError) throw req.bodyError;
    return true;
  }
}
