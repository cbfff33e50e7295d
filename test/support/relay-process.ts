import { TEST_ADMIN_TOKEN, TEST_DATABASE_URL } from '@app/testing';
import { freePort, spawnTs, SpawnedProcess, SpawnOptions, waitForStatus } from './processes';

export interface RelayProcess extends SpawnedProcess {
  url: string;
  port: number;
}

/** A relay (with its in-process worker) as a separate process, for tests that kill or stop it. */
export async function spawnRelay(
  env: Record<string, string>,
  waitFor: 'ready' | 'live' = 'ready',
  options: SpawnOptions = {},
): Promise<RelayProcess> {
  const port = await freePort();
  const child = spawnTs(
    'apps/relay/src/main.ts',
    {
      PORT: String(port),
      DATABASE_URL: TEST_DATABASE_URL,
      LOG_LEVEL: 'warn',
      ADMIN_TOKEN: TEST_ADMIN_TOKEN,
      WEBHOOK_USER_MESSAGES_PER_MINUTE: '100000',
      RATE_LIMIT_SESSION_CREATES_PER_5_MIN: '100000',
      RATE_LIMIT_SESSION_STATUS_PER_MINUTE: '100000',
      RATE_LIMIT_STREAM_CONNECTS_PER_MINUTE: '100000',
      MAX_STREAMS_PER_IP: '100000',
      ...env,
    },
    options,
  );
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForStatus(`${url}/health${waitFor === 'ready' ? '/ready' : ''}`, 200, 45000);
  } catch (e) {
    await child.kill('SIGKILL');
    throw new Error(`${(e as Error).message}\n${child.output()}`);
  }
  return { ...child, url, port };
}
