import { Global, Logger, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource, DataSourceOptions } from 'typeorm';
import { RELAY_CONFIG, RelayConfig } from '@app/config';
import { dataSourceOptions, ensureDatabase, runMigrationsLocked } from './database';
import { ENTITIES } from './entities';
import {
  AccountsRepository,
  AdminReadRepository,
  CleanupRepository,
  ConversationsRepository,
  InboundMessagesRepository,
  OutboundMessagesRepository,
  SessionsRepository,
} from './repositories';

const REPOSITORIES = [
  AccountsRepository,
  AdminReadRepository,
  CleanupRepository,
  SessionsRepository,
  ConversationsRepository,
  InboundMessagesRepository,
  OutboundMessagesRepository,
];

/**
 * PostgreSQL through TypeORM. On start: create the database if it is missing, connect, and run the
 * migrations under an advisory lock (never `synchronize`).
 */
@Global()
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [RELAY_CONFIG],
      useFactory: (config: RelayConfig) => ({
        ...dataSourceOptions(config),
        retryAttempts: 15,
        retryDelay: 2000,
      }),
      dataSourceFactory: async (options?: DataSourceOptions) => {
        if (!options) throw new Error('missing data source options');
        const logger = new Logger('Database');
        const url = (options as { url?: string }).url as string;
        if (await ensureDatabase(url)) logger.log('created the database named in DATABASE_URL');
        const dataSource = await new DataSource(options).initialize();
        try {
          const applied = await runMigrationsLocked(dataSource);
          if (applied.length > 0) logger.log(`applied migrations: ${applied.join(', ')}`);
        } catch (e) {
          await dataSource.destroy();
          throw e;
        }
        return dataSource;
      },
    }),
    TypeOrmModule.forFeature(ENTITIES),
  ],
  providers: REPOSITORIES,
  exports: [TypeOrmModule, ...REPOSITORIES],
})
export class PersistenceModule {}
