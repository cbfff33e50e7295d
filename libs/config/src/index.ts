export * from './relay-config';
export * from './config.module';
