export * from './callback-proxy.module';
export * from './callback-send.module';
export * from './reply.service';
export { CallbackHttpClient } from './callback-http.client';
export { CallbackDns } from './callback-sender';
export * from './reply-command';
export * from './reply-rate-limit';
