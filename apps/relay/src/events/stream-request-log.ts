import type { NextFunction, Request, Response } from 'express';
import { performance } from 'node:perf_hooks';
import { logRequestCompleted, requestId } from '@app/platform';

/**
 * The agent stream's request line: its id (`X-Request-Id`), and "request completed" when the stream ends or was
 * refused. pino-http is not used on this route (see `loggerOptions`): its per-request child logger would be held
 * for the stream's whole life; this keeps one small closure instead.
 */
export function streamRequestLog(req: Request, res: Response, next: NextFunction): void {
  const started = performance.now();
  const id = requestId(req, res);
  res.once('close', () => logRequestCompleted(req, res, id, started));
  next();
}
