import type { NestExpressApplication } from '@nestjs/platform-express';
import type { AddressInfo } from 'node:net';
import { createRelayApp } from '../../../apps/relay/src/relay.app';
import { testConfig } from './test-config';

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
