export * from './push.module';
export * from './push-endpoints.service';
export * from './push-signing';
export * from './push-policy';
export * from './push-events';
export * from './dto/push.dto';
