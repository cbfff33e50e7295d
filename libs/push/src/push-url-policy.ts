import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { RELAY_CONFIG, RelayConfig } from '@app/config';
import { CallbackRefusedError, CallbackUrlPolicy, RelayError, ResolvedAddress } from '@app/core';
import { CallbackDns } from '@app/reply';

export const MAX_PUSH_URL_BYTES = 2048;
/**
 * A URL that passed the check (with DNS) is not checked again for this long by this process: the attempts in
 * between connect to the address that passed. At 1,000 deliveries a second to one endpoint, a DNS lookup and a
 * URL parse per attempt cost more than the request.
 */
export const PUSH_URL_CHECK_REUSE_MS = 1000;

/**
 * The callback proxy's URL rules (`CallbackUrlPolicy`, the same code) for push endpoints: https only
 * (`PUSH_ALLOW_HTTP` for tests), no credentials in the URL, any host and port, and every resolved address public
 * unless the host is listed in `PUSH_ALLOWED_PRIVATE_HOSTS`; the address that passed is the one connected to.
 * Checked when the endpoint is set (without DNS: 400 `PUSH_URL_REFUSED`) and again, with DNS, before attempts
 * (at most once per `PUSH_URL_CHECK_REUSE_MS` for a URL that passed; a refusal is never reused).
 */
@Injectable()
export class PushUrlPolicy implements OnModuleInit {
  private readonly policy: CallbackUrlPolicy;
  private readonly passed = new Map<string, { target: { url: URL; address: ResolvedAddress }; at: number }>();

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
  async check(url: string): Promise<{ url: URL; address: ResolvedAddress }> {
    const now = Date.now();
    const reused = this.passed.get(url);
    if (reused && now - reused.at < PUSH_URL_CHECK_REUSE_MS) return reused.target;
    const target = await this.policy.check(url);
    if (this.passed.size >= 10_000) this.passed.clear();
    this.passed.set(url, { target, at: now });
    return target;
  }
}

function refused(message: string): RelayError {
  return new RelayError(400, 'PUSH_URL_REFUSED', message, [{ field: 'url', message }]);
}
