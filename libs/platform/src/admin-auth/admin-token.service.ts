import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { RELAY_CONFIG, RelayConfig } from '@app/config';
import { constantTimeEquals, generateToken } from '@app/core';

/**
 * The admin credential: ADMIN_TOKEN, or — when unset — a random token made at start and printed exactly once
 * on standard output (not through the logger, so it reaches no log pipeline). A generated token belongs to
 * this process only; set ADMIN_TOKEN when several processes serve the admin API.
 */
@Injectable()
export class AdminTokenService implements OnApplicationBootstrap {
  private readonly token: string;
  private readonly generated: boolean;

  constructor(@Inject(RELAY_CONFIG) config: RelayConfig) {
    this.generated = !config.adminToken;
    this.token = config.adminToken ?? generateToken();
  }

  onApplicationBootstrap(): void {
    if (!this.generated) return;
    process.stdout.write(
      `\n  kakao-relay: ADMIN_TOKEN is not set; this process generated one (shown only now):\n\n` +
        `    ${this.token}\n\n  Use it as "Authorization: Bearer <token>" for /admin/api, /metrics and the dashboard.\n\n`,
    );
  }

  matches(candidate: string | null): boolean {
    return typeof candidate === 'string' && candidate.length > 0 && constantTimeEquals(candidate, this.token);
  }
}
