import 'reflect-metadata';
import { loadConfigOrExit } from '@app/platform';
import { createRelayApp } from './relay.app';

async function bootstrap(): Promise<void> {
  const config = loadConfigOrExit();
  const app = await createRelayApp(config);
  await app.listen(config.port, '0.0.0.0');
}

bootstrap().catch((e: unknown) => {
  console.error(`kakao-relay failed to start: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
