/**
 * Domain errors. Each carries the HTTP status and the machine-readable `code` of the contract's uniform
 * error body; one exception filter (apps/relay/src/http/error-body.filter.ts) turns them into responses.
 */
export interface ErrorDetail {
  field?: string;
  message: string;
  [key: string]: unknown;
}

export class RelayError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly details?: ErrorDetail[],
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class ValidationError extends RelayError {
  constructor(message: string, details?: ErrorDetail[]) {
    super(400, 'VALIDATION_ERROR', message, details);
  }
}

export class UnauthorizedError extends RelayError {
  constructor(code = 'UNAUTHORIZED', message = 'A valid token is required.') {
    super(401, code, message);
  }
}

export class ForbiddenError extends RelayError {
  constructor(code = 'FORBIDDEN', message = 'This request is not allowed.') {
    super(403, code, message);
  }
}

export class NotFoundError extends RelayError {
  constructor(code = 'NOT_FOUND', message = 'Not found.') {
    super(404, code, message);
  }
}

export class ConflictError extends RelayError {
  constructor(code: string, message: string) {
    super(409, code, message);
  }
}

export class PayloadTooLargeError extends RelayError {
  constructor(limit: string) {
    super(413, 'PAYLOAD_TOO_LARGE', `The request body is larger than ${limit}.`);
  }
}

export class UnsupportedMediaTypeError extends RelayError {
  constructor() {
    super(415, 'UNSUPPORTED_MEDIA_TYPE', 'The request body must be JSON (Content-Type: application/json).');
  }
}

export class RateLimitedError extends RelayError {
  constructor(message: string, headers: Record<string, string>) {
    super(429, 'RATE_LIMITED', message, undefined, headers);
  }
}

/** Too many open agent streams from one client address (contract §7, `MAX_STREAMS_PER_IP`). */
export class TooManyStreamsError extends RelayError {
  constructor(limit: number, retryAfterSeconds: number) {
    super(
      429,
      'TOO_MANY_STREAMS',
      `This address has ${limit} open agent streams already; close one before opening another.`,
      undefined,
      { 'Retry-After': String(retryAfterSeconds) },
    );
  }
}

export class ServiceUnavailableError extends RelayError {
  constructor(code: string, message: string, details?: ErrorDetail[], headers?: Record<string, string>) {
    super(503, code, message, details, headers);
  }
}

/**
 * Refused at once because a bounded queue is full (the store's waiting messages): try again in a second. The
 * webhook answers Kakao with its "temporarily unavailable" SkillResponse and `Retry-After: 1` instead.
 */
export class OverloadedError extends ServiceUnavailableError {
  constructor(message = 'The relay is busy; try again in a second.') {
    super('OVERLOADED', message, undefined, { 'Retry-After': '1' });
  }
}

/** The uniform error body of the contract (§0). */
export interface ErrorBody {
  statusCode: number;
  code: string;
  message: string;
  details?: ErrorDetail[];
}
