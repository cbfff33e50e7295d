export * from './callback-proxy.module';
export * from './callback-send.module';
export * from './reply.service';
export * from './reply-service.module';
export { ReplyDto } from './dto/reply.dto';
export { CallbackHttpClient, pinnedPost, type PinnedAnswer } from './callback-http.client';
export { CallbackDns } from './callback-sender';
export * from './reply-command';
export * from './reply-rate-limit';
