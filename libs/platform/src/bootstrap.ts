import { INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NextFunction, Request, Response } from 'express';
import helmet from 'helmet';
import { Logger } from 'nestjs-pino';
import { ConfigValidationError, parseConfig, RelayConfig } from '@app/config';
import { expressTrustProxy } from './http/client-address';
import { ErrorBodyFilter } from './http/error-body.filter';
import { createValidationPipe } from './http/validation';
import { cacheValidationMetadata } from './http/validation-metadata-cache';
import { SECURITY_HEADER_OPTIONS } from './http/security-headers';
import { STREAM_ROUTE } from './logging/logger.options';

/** Parses the environment, or prints every problem in one message and exits non-zero. */
export function loadConfigOrExit(env: NodeJS.ProcessEnv = process.env): RelayConfig {
  try {
    return parseConfig(env);
  } catch (e) {
    if (e instanceof ConfigValidationError) {
      console.error(`kakao-relay: ${e.message}`);
      process.exit(1);
    }
    throw e;
  }
}

/** Cross-cutting HTTP setup shared by the relay and the worker's health server. */
export function configureHttpApp(app: INestApplication, config: RelayConfig): void {
  const express = app as NestExpressApplication;
  express.useLogger(app.get(Logger));
  express.disable('x-powered-by');
  // The same rule as clientIp, so req.ip names the client clientIp keys limits by.
  express.set('trust proxy', expressTrustProxy(config.trustProxy));
  express.set('etag', false);
  // The channel webhooks answer before Express, with the same headers (`securityHeaderList`).
  const securityHeaders = helmet(SECURITY_HEADER_OPTIONS);
  // Not on the agent stream: it is an event stream for agents, not a document a browser renders, and the
  // dozen header entries helmet sets would be held by every open stream (≈1.8 KiB each, measured).
  app.use((req: Request, res: Response, next: NextFunction) =>
    req.path === STREAM_ROUTE ? next() : securityHeaders(req, res, next),
  );
  app.useGlobalFilters(new ErrorBodyFilter());
  // Every DTO is defined by now; the channel webhooks validate with class-validator too (`validateSync`).
  cacheValidationMetadata();
  app.useGlobalPipes(createValidationPipe());
  app.enableShutdownHooks();
}
