import { Injectable, NestMiddleware } from '@nestjs/common';
import { json } from 'body-parser';
import type { NextFunction, Request, Response } from 'express';
import { PayloadTooLargeError, UnsupportedMediaTypeError, ValidationError } from '@app/core';
import { inspectJson } from './json-inspect';

export interface RawBodyRequest extends Request {
  rawBody?: Buffer;
}

interface BodyParserError extends Error {
  type?: string;
  status?: number;
}

const JSON_TYPES = ['application/json', 'application/*+json'];

/**
 * Builds a JSON body parser for a group of routes: keeps the raw bytes (for HMAC), enforces the size limit
 * with 413, refuses non-JSON content types with 415 and malformed JSON with 400 — all as the uniform error
 * body, since a Nest middleware's errors go through the exception filter. (The channel webhooks, which answer
 * before Express, read their bodies with the same rules in `readJsonRequestBody`.)
 */
export function createJsonBodyMiddleware(limit: string) {
  const parser = json({
    limit,
    strict: false,
    type: () => true,
    verify: (req, _res, buf) => {
      (req as RawBodyRequest).rawBody = buf;
    },
  });

  @Injectable()
  class JsonBodyMiddleware implements NestMiddleware {
    use(req: Request, res: Response, next: NextFunction): void {
      // GET, HEAD and DELETE take no body: whatever came is ignored, not parsed.
      if (req.method === 'GET' || req.method === 'HEAD' || req.method === 'DELETE') {
        req.body = undefined;
        return next();
      }
      const length = req.headers['content-length'];
      const hasBody =
        (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
      if (!hasBody) {
        req.body = undefined;
        return next();
      }
      if (!JSON_TYPES.some((t) => req.is(t))) return next(new UnsupportedMediaTypeError());
      parser(req, res, (err?: BodyParserError) => {
        if (!err) {
          const problem = inspectJson(req.body, { forbidPrototypeKeysAtTop: true });
          if (!problem) return next();
          req.body = undefined;
          return next(new ValidationError(problem));
        }
        if (err.type === 'entity.too.large') return next(new PayloadTooLargeError(limit));
        if (err.type === 'encoding.unsupported' || err.type === 'charset.unsupported') {
          return next(new UnsupportedMediaTypeError());
        }
        if (err.type === 'request.aborted') return next(new ValidationError('The request was aborted.'));
        return next(new ValidationError('The request body is not valid JSON.'));
      });
    }
  }
  return JsonBodyMiddleware;
}
