export * from './stream-transport';
export * from './agent-stream';
export * from './stream-hub.service';
export * from './streams.module';
export * from './last-event-id';
export * from './stream-connect-limit';
