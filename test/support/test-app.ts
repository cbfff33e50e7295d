/** Starting a full relay in the test process: test code, not a library (libraries never import an app). */
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { AddressInfo } from 'node:net';
import { RedisService } from '@app/messaging/redis.service';
import { testConfig } from '@app/testing';
import { createRelayApp } from '../../apps/relay/src/relay.app';

export interface RunningRelay {
  app: NestExpressApplication;
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Starts a full relay (HTTP + in-process worker unless overridden) on a free port of 127.0.0.1. */
export async function startRelay(overrides: Record<string, string> = {}): Promise<RunningRelay> {
  const app = await createRelayApp(testConfig(overrides));
  await app.listen(0, '127.0.0.1');
  const port = (app.getHttpServer().address() as AddressInfo).port;
  let closed = false;
  return {
    app,
    port,
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      if (closed) return;
      closed = true;
      await app.close();
    },
  };
}

/**
 * Ends rate-limit windows now, as if their time had passed (`bucket` '*' for all). Every request of a test comes
 * from 127.0.0.1, so per-IP windows are shared by the whole test process.
 */
export async function endRateLimitWindows(relay: RunningRelay, bucket = '*'): Promise<void> {
  const redis = relay.app.get(RedisService);
  const keys = await redis.command.keys(bucket === '*' ? redis.key('rl', '*') : redis.key('rl', bucket, '*'));
  if (keys.length > 0) await redis.command.del(...keys);
}
