import { RAISED_TEST_LIMITS, TEST_ADMIN_TOKEN, TEST_DATABASE_URL } from '@app/testing';
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
      ...RAISED_TEST_LIMITS,
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
