export * from './bootstrap';
export * from './platform.module';
export * from './http/error-body.filter';
export * from './http/json-body.middleware';
export * from './http/validation';
export * from './health/health.module';
export * from './logging/logger.options';
export * from './http/rate-limit.guard';
