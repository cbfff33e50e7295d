import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { RELAY_CONFIG, RelayConfig } from '@app/config';
import { CallbackRefusedError, CallbackUrlPolicy, RelayError, ResolvedAddress } from '@app/core';
import { CallbackDns } from '@app/reply';

export const MAX_PUSH_URL_BYTES = 2048;

/**
 * The callback proxy's URL rules (`CallbackUrlPolicy`, the same code) for push endpoints: https only
 * (`PUSH_ALLOW_HTTP` for tests), no credentials in the URL, any host and port, and every resolved address public
 * unless the host is listed in `PUSH_ALLOWED_PRIVATE_HOSTS`; the address that passed is the one connected to.
 * Checked when the endpoint is set (without DNS: 400 `PUSH_URL_REFUSED`) and again, with DNS, at every attempt.
 */
@Injectable()
export class PushUrlPolicy implements OnModuleInit {
  private readonly policy: CallbackUrlPolicy;

  constructor(
    @Inject(RELAY_CONFIG) private readonly config: RelayConfig,
    dns: CallbackDns,
  ) {
    this.policy = new CallbackUrlPolicy(
      {
        allowedHosts: config.pushAllowedPrivateHosts,
        allowHttp: config.pushAllowHttp,
        anyHost: true,
        label: { url: 'push', setting: 'PUSH_ALLOWED_PRIVATE_HOSTS' },
      },
      (host) => dns.resolve(host),
    );
  }

  onModuleInit(): void {
    if (this.config.pushAllowHttp) {
      new Logger('Push').warn(
        'PUSH_ALLOW_HTTP=true: push endpoints may be plain http. For local testing only.',
      );
    }
  }

  /** The static rules, for `PUT /v1/push-endpoint`: 400 `PUSH_URL_REFUSED` naming the rule. */
  validate(url: string): void {
    if (Buffer.byteLength(url) > MAX_PUSH_URL_BYTES) {
      throw refused(`the push URL is longer than ${MAX_PUSH_URL_BYTES} bytes`);
    }
    try {
      this.policy.checkStatic(url);
    } catch (e) {
      if (e instanceof CallbackRefusedError) throw refused(e.message);
      throw e;
    }
  }

  /** Everything, with DNS; throws `CallbackRefusedError`. */
  check(url: string): Promise<{ url: URL; address: ResolvedAddress }> {
    return this.policy.check(url);
  }
}

function refused(message: string): RelayError {
  return new RelayError(400, 'PUSH_URL_REFUSED', message, [{ field: 'url', message }]);
}
