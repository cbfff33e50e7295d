import { Injectable, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource, TypeOrmModule } from '@nestjs/typeorm';
import { DataSource, DataSourceOptions } from 'typeorm';
import { RELAY_CONFIG, RelayConfig } from '@app/config';
import {
  AccountStore,
  ApiKeyStore,
  BotBindingStore,
  ChannelEventStore,
  CleanupStore,
  ConversationStore,
  InboundMessageStore,
  PairingStore,
  PushDeliveryStore,
  PushEndpointStore,
  ReplyStore,
  SecretBox,
  SessionStore,
  SettingsStore,
  WorksSendStore,
  WorksBotRegistry,
  WorksBotStore,
  HeldAnswerStore,
  KakaoBotStore,
  TunnelStore,
} from '@app/core';
import { isDatabaseUnavailable } from './availability';
import { dataSourceOptions, ensureDatabase, runMigrationsLocked } from './database';
import { ENTITIES } from './entities';
import {
  AccountsRepository,
  ApiKeysRepository,
  BotBindingsRepository,
  ChannelEventsRepository,
  AdminReadRepository,
  CleanupRepository,
  ConversationsRepository,
  InboundMessagesRepository,
  OutboundMessagesRepository,
  PairingRepository,
  PushRepository,
  SessionsRepository,
  SettingsRepository,
  WorksSendsRepository,
  WorksBotsRepository,
  HeldAnswersRepository,
  KakaoBotsRepository,
  TunnelsRepository,
} from './repositories';

const REPOSITORIES = [
  ChannelEventsRepository,
  AccountsRepository,
  AdminReadRepository,
  CleanupRepository,
  SessionsRepository,
  ConversationsRepository,
  PairingRepository,
  InboundMessagesRepository,
  OutboundMessagesRepository,
  WorksSendsRepository,
  WorksBotsRepository,
  ApiKeysRepository,
  SettingsRepository,
  BotBindingsRepository,
  HeldAnswersRepository,
  KakaoBotsRepository,
  PushRepository,
  TunnelsRepository,
];

/** The ports of `@app/core`, each bound to its PostgreSQL adapter (one instance: the adapter's own provider). */
const PORTS = [
  { provide: SessionStore, useExisting: SessionsRepository },
  { provide: AccountStore, useExisting: AccountsRepository },
  { provide: ConversationStore, useExisting: ConversationsRepository },
  { provide: PairingStore, useExisting: PairingRepository },
  { provide: CleanupStore, useExisting: CleanupRepository },
  { provide: ReplyStore, useExisting: OutboundMessagesRepository },
  { provide: InboundMessageStore, useExisting: InboundMessagesRepository },
  { provide: ChannelEventStore, useExisting: ChannelEventsRepository },
  { provide: WorksSendStore, useExisting: WorksSendsRepository },
  { provide: WorksBotStore, useExisting: WorksBotsRepository },
  { provide: WorksBotRegistry, useExisting: WorksBotsRepository },
  { provide: ApiKeyStore, useExisting: ApiKeysRepository },
  { provide: SettingsStore, useExisting: SettingsRepository },
  { provide: BotBindingStore, useExisting: BotBindingsRepository },
  { provide: HeldAnswerStore, useExisting: HeldAnswersRepository },
  { provide: KakaoBotStore, useExisting: KakaoBotsRepository },
  { provide: PushEndpointStore, useExisting: PushRepository },
  { provide: PushDeliveryStore, useExisting: PushRepository },
  { provide: TunnelStore, useExisting: TunnelsRepository },
];

/** Seals and opens the secrets stored at rest, with the key of `RELAY_SECRETS_KEY` (none: storing is refused). */
const SECRET_BOX = {
  provide: SecretBox,
  inject: [RELAY_CONFIG],
  useFactory: (config: RelayConfig) => SecretBox.fromSetting(config.relaySecretsKey),
};

const logger = new Logger('Database');
const retries = new WeakMap<DataSource, { stop: boolean }>();

/** Creates the database if missing, connects, migrates under the advisory lock. */
async function open(dataSource: DataSource, url: string): Promise<void> {
  if (await ensureDatabase(url)) logger.log('created the database named in DATABASE_URL');
  await dataSource.initialize();
  try {
    const applied = await runMigrationsLocked(dataSource);
    if (applied.length > 0) logger.log(`applied migrations: ${applied.join(', ')}`);
  } catch (e) {
    await dataSource.destroy();
    throw e;
  }
}

/**
 * Opens the database; when PostgreSQL is unreachable at start the relay still starts (health says 503, the
 * webhook answers Kakao with "temporarily unavailable") and keeps trying in the background until it is back.
 */
async function openOrDefer(dataSource: DataSource, url: string): Promise<DataSource> {
  try {
    await open(dataSource, url);
    return dataSource;
  } catch (e) {
    if (!isDatabaseUnavailable(e)) throw e;
    logger.error(
      `PostgreSQL is unreachable (${(e as Error).message}); starting degraded, retrying in the background`,
    );
  }
  // Entity metadata without a connection, so repositories can be built now and work once connected.
  await (dataSource as unknown as { buildMetadatas(): Promise<void> }).buildMetadatas();
  const state = { stop: false };
  retries.set(dataSource, state);
  void (async () => {
    for (let attempt = 1, delay = 1000; !state.stop; attempt++, delay = Math.min(delay * 2, 5000)) {
      await new Promise((r) => setTimeout(r, delay).unref());
      if (state.stop) return;
      try {
        await open(dataSource, url);
        logger.log(`PostgreSQL is reachable again (attempt ${attempt}); leaving degraded mode`);
        return;
      } catch (e) {
        logger.warn(`PostgreSQL still unreachable (attempt ${attempt}): ${(e as Error).message}`);
      }
    }
  })();
  return dataSource;
}

/** Stops a background reconnect loop at shutdown. */
@Injectable()
class DatabaseLifecycle implements OnApplicationShutdown {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  onApplicationShutdown(): void {
    const state = retries.get(this.dataSource);
    if (state) state.stop = true;
  }
}

/**
 * The PostgreSQL connection through TypeORM, imported once by each deployable (`PlatformModule`); its
 * `DataSource` is global infrastructure. On start: create the database if it is missing, connect, and run the
 * migrations under an advisory lock (never `synchronize`); if PostgreSQL is away, start degraded and retry.
 */
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [RELAY_CONFIG],
      useFactory: (config: RelayConfig) => ({
        ...dataSourceOptions(config),
        retryAttempts: 0,
        // We connect ourselves (openOrDefer), so that a relay can start while PostgreSQL is away.
        manualInitialization: true,
      }),
      dataSourceFactory: async (options?: DataSourceOptions) => {
        if (!options) throw new Error('missing data source options');
        return openOrDefer(new DataSource(options), (options as { url: string }).url);
      },
    }),
  ],
  providers: [DatabaseLifecycle],
})
export class DatabaseModule {}

/**
 * The repositories and the ports they implement, imported by each feature module that reads or writes rows (not
 * global: a real dependency). Features ask for the port (`SessionStore`, …), not the adapter class.
 */
@Module({
  imports: [TypeOrmModule.forFeature(ENTITIES)],
  providers: [SECRET_BOX, ...REPOSITORIES, ...PORTS],
  exports: [...REPOSITORIES, ...PORTS.map((p) => p.provide)],
})
export class PersistenceModule {}
