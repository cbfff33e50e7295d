export * from './redis-options';
export * from './redis.service';
export * from './pubsub.service';
export * from './queues';
export * from './channels';
export * from './messaging.module';
