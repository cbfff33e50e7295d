import type { NextFunction, Request, Response } from 'express';
import { performance } from 'node:perf_hooks';
import { logRequestCompleted, requestId } from '@app/platform';

/**
 * The agent stream's request line: its id (`X-Request-Id`), and "request completed" when the stream ends or was
 * refused. pino-http is not used on this route (see `loggerOptions`): its per-request child logger would be held
 * for the stream's whole life; this keeps one small closure instead.
 */
export function streamRequestLog(req: Request, res: Response, next: NextFunction): void {
  STARTED.set(res, { id: requestId(req, res), started: performance.now() });
  res.once('close', onClose);
  next();
}

/** When each open request began: one shared listener instead of a closure held by every stream. */
const STARTED = new WeakMap<Response, { id: string; started: number }>();

function onClose(this: Response): void {
  const begun = STARTED.get(this);
  if (begun) logRequestCompleted(this.req, this, begun.id, begun.started);
}
