export * from './relay-config';
export * from './config.module';
export * from './trust-proxy';
