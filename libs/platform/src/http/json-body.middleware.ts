import { Injectable, NestMiddleware } from '@nestjs/common';
import { json } from 'body-parser';
import type { NextFunction, Request, Response } from 'express';
import { PayloadTooLargeError, UnsupportedMediaTypeError, ValidationError } from '@app/core';
import { inspectJson } from './json-inspect';

export interface RawBodyRequest extends Request {
  rawBody?: Buffer;
  /** With `deferErrors`: why the body could not be parsed, for the handler to raise after authentication. */
  bodyError?: Error;
}

export interface JsonBodyOptions {
  /**
   * Parse whatever the content type says and keep parse errors on the request instead of failing at once,
   * so that authentication (which may need the raw bytes) is decided first. Size limits still fail at once.
   */
  deferErrors?: boolean;
}

interface BodyParserError extends Error {
  type?: string;
  status?: number;
}

const JSON_TYPES = ['application/json', 'application/*+json'];

/**
 * Builds a JSON body parser for a group of routes: keeps the raw bytes (for HMAC), enforces the size limit
 * with 413, refuses non-JSON content types with 415 and malformed JSON with 400 — all as the uniform error
 * body, since a Nest middleware's errors go through the exception filter.
 */
/**
 * Turns the bytes of a UTF-8 JSON body into a value exactly as the middleware below does (byte order mark
 * dropped, any JSON value, then `inspectJson` with the same options), for a handler that reads its body
 * itself. Throws `ValidationError`.
 */
export function decodeJsonBody(raw: Buffer, options: JsonBodyOptions = {}): unknown {
  let text = raw.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ValidationError('The request body is not valid JSON.');
  }
  const problem = inspectJson(body, inspectOptions(options));
  if (problem) throw new ValidationError(problem);
  return body;
}

function inspectOptions(options: JsonBodyOptions) {
  return options.deferErrors ? { sanitizeText: true } : { forbidPrototypeKeysAtTop: true };
}

export function createJsonBodyMiddleware(limit: string, options: JsonBodyOptions = {}) {
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
      if (!JSON_TYPES.some((t) => req.is(t))) {
        if (!options.deferErrors) return next(new UnsupportedMediaTypeError());
        (req as RawBodyRequest).bodyError = new UnsupportedMediaTypeError();
      }
      parser(req, res, (err?: BodyParserError) => {
        if (!err) {
          const problem = inspectJson(req.body, inspectOptions(options));
          if (!problem) return next();
          const error = new ValidationError(problem);
          req.body = undefined;
          if (!options.deferErrors) return next(error);
          (req as RawBodyRequest).bodyError ??= error;
          return next();
        }
        if (err.type === 'entity.too.large') return next(new PayloadTooLargeError(limit));
        if (options.deferErrors) {
          (req as RawBodyRequest).bodyError ??= new ValidationError('The request body is not valid JSON.');
          req.body = undefined;
          return next();
        }
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
