import { ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface SpawnedProcess {
  proc: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface SpawnOptions {
  /**
   * Lets the test collect the child's garbage (`collectGarbage`): the child runs with `--expose-gc`,
   * `test/support/gc-hook.js` preloaded and an IPC channel.
   */
  gc?: boolean;
}

/** Runs a TypeScript entry point of this repo in a child process (no build needed). */
export function spawnTs(
  entry: string,
  env: Record<string, string>,
  options: SpawnOptions = {},
): SpawnedProcess {
  const gcArgs = options.gc ? ['--expose-gc', '-r', path.join(ROOT, 'test/support/gc-hook.js')] : [];
  const proc = spawn(
    process.execPath,
    [...gcArgs, '-r', path.join(ROOT, 'test/support/register-ts.js'), path.join(ROOT, entry)],
    {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: options.gc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return {
    proc,
    output: () => out,
    exited,
    kill: async (signal: NodeJS.Signals = 'SIGTERM') => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
  };
}

/**
 * Collects the garbage of a child spawned with `{ gc: true }` (twice, see `gc-hook.js`) and resolves with its
 * resident set size in MiB afterwards: memory the child holds, not what V8 has not collected yet.
 */
export function collectGarbage(child: SpawnedProcess, timeoutMs = 10000): Promise<number> {
  const { proc } = child;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.off('message', onMessage);
      reject(new Error(`the child did not answer a gc request within ${timeoutMs} ms (spawned without gc?)`));
    }, timeoutMs);
    const onMessage = (message: { type?: string; rssBytes?: number }) => {
      if (message?.type !== 'gc-done') return;
      clearTimeout(timer);
      proc.off('message', onMessage);
      resolve((message.rssBytes ?? 0) / (1024 * 1024));
    };
    proc.on('message', onMessage);
    proc.send({ type: 'gc' });
  });
}

/** Polls a URL until it answers with the wanted status. */
export async function waitForStatus(url: string, status: number, timeoutMs = 20000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url);
      if (res.status === status) return;
      last = `status ${res.status}`;
    } catch (e) {
      last = (e as Error).message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not answer ${status} within ${timeoutMs} ms (last: ${last})`);
}

/** A throwaway redis-server on a spare port, to stop and start in tests. */
export async function startRedisServer(port?: number): Promise<{ port: number; stop(): Promise<void> }> {
  const p = port ?? (await freePort());
  const proc = spawn(
    'redis-server',
    ['--port', String(p), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  );
  const exited = new Promise<void>((resolve) => proc.on('exit', () => resolve()));
  const deadline = Date.now() + 5000;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(p, '127.0.0.1', () => {
        s.end();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`redis-server on ${p} did not start`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port: p,
    stop: async () => {
      proc.kill('SIGKILL');
      await exited;
    },
  };
}
