import 'reflect-metadata';
import { loadConfigOrExit } from '@app/platform';
import { createWorkerApp } from './worker.app';

async function bootstrap(): Promise<void> {
  const config = loadConfigOrExit();
  const app = await createWorkerApp(config);
  await app.listen(config.workerPort, '0.0.0.0');
}

bootstrap().catch((e: unknown) => {
  console.error(`kakao-relay worker failed to start: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
