import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { Response } from 'express';
import { ErrorBody, ErrorDetail, RelayError } from '@app/core';
import { isDatabaseUnavailable } from '@app/persistence';

const CODE_BY_STATUS: Record<number, string> = {
  400: 'VALIDATION_ERROR',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'RATE_LIMITED',
  502: 'BAD_GATEWAY',
  503: 'SERVICE_UNAVAILABLE',
};

function messageOf(response: unknown, fallback: string): { message: string; details?: ErrorDetail[] } {
  if (typeof response === 'string') return { message: response };
  if (response && typeof response === 'object') {
    const r = response as { message?: unknown; details?: unknown };
    if (Array.isArray(r.message)) {
      const details = r.message.map((m) => ({ message: String(m) }));
      return { message: 'The request is not valid.', details };
    }
    if (typeof r.message === 'string') {
      return {
        message: r.message,
        details: Array.isArray(r.details) ? (r.details as ErrorDetail[]) : undefined,
      };
    }
  }
  return { message: fallback };
}

/**
 * The one place where errors become HTTP responses: every non-2xx answer carries the contract's uniform
 * body `{statusCode, code, message, details?}`. Unknown errors are logged and answered with a generic 500
 * that never leaks a stack trace or SQL.
 */
@Catch()
export class ErrorBodyFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    const { body, headers } = this.toBody(exception);
    if (res.headersSent) {
      res.end();
      return;
    }
    if (headers) for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
    res.status(body.statusCode).json(body);
  }

  toBody(exception: unknown): { body: ErrorBody; headers?: Record<string, string> } {
    if (exception instanceof RelayError) {
      const body: ErrorBody = {
        statusCode: exception.statusCode,
        code: exception.code,
        message: exception.message,
      };
      if (exception.details) body.details = exception.details;
      return { body, headers: exception.headers };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const response = exception.getResponse();
      const { message, details } = messageOf(response, exception.message);
      const explicitCode =
        response && typeof response === 'object' && typeof (response as { code?: unknown }).code === 'string'
          ? (response as { code: string }).code
          : undefined;
      const body: ErrorBody = {
        statusCode: status,
        code: explicitCode ?? CODE_BY_STATUS[status] ?? (status >= 500 ? 'INTERNAL_ERROR' : 'ERROR'),
        message,
      };
      if (details) body.details = details;
      if (status >= 500) this.logger.error(`${status} ${message}`);
      return { body };
    }
    if (isDatabaseUnavailable(exception)) {
      this.logger.warn(`database unavailable: ${(exception as Error).message}`);
      return {
        body: {
          statusCode: HttpStatus.SERVICE_UNAVAILABLE,
          code: 'DATABASE_UNAVAILABLE',
          message: 'The relay cannot reach its database right now; try again shortly.',
        },
        headers: { 'Retry-After': '5' },
      };
    }
    this.logger.error(
      { err: exception },
      `unhandled error: ${exception instanceof Error ? exception.message : String(exception)}`,
    );
    return {
      body: {
        statusCode: HttpStatus.INTERNAL_SERVER_ERROR,
        code: 'INTERNAL_ERROR',
        message: 'Something went wrong on the relay. The error was logged.',
      },
    };
  }
}
