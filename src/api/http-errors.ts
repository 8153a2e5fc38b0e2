/**
 * The API's one error hierarchy. Each error knows its HTTP status and serializes itself to the
 * contract's single error shape: `{ errors: [ { message, field? } ] }`. The domain's errors
 * (orders/errors.ts) carry no status: error-handler.ts maps them to these.
 */
export interface ErrorItem {
  message: string;
  field?: string;
}

export abstract class AppError extends Error {
  abstract readonly statusCode: number;
  constructor(
    message: string,
    /** Sent as `Retry-After`: when the same request can succeed, when that is known. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
  serialize(): ErrorItem[] {
    return [{ message: this.message }];
  }
  toJSON(): { errors: ErrorItem[] } {
    return { errors: this.serialize() };
  }
}

export class BadRequestError extends AppError {
  override name = 'BadRequestError';
  readonly statusCode = 400;
}

export class RequestValidationError extends AppError {
  override name = 'RequestValidationError';
  readonly statusCode = 400;
  constructor(readonly items: ErrorItem[]) {
    super(items.map((i) => (i.field ? `${i.field}: ${i.message}` : i.message)).join('; '));
  }
  override serialize(): ErrorItem[] {
    return this.items;
  }
}

export class NotAuthorizedError extends AppError {
  override name = 'NotAuthorizedError';
  readonly statusCode = 401;
  constructor() {
    super('Not authorized');
  }
}

export class NotFoundError extends AppError {
  override name = 'NotFoundError';
  readonly statusCode = 404;
  constructor(message = 'Not found') {
    super(message);
  }
}

/**
 * The request conflicts with the current state: another request in flight (retry after
 * `retryAfterSeconds`), or an order whose hold cannot be extended (it has ended, or is at the limit).
 */
export class ConflictError extends AppError {
  override name = 'ConflictError';
  readonly statusCode = 409;
}

/** Well-formed, but it cannot be done as asked (an Idempotency-Key reused with another body). */
export class UnprocessableContentError extends AppError {
  override name = 'UnprocessableContentError';
  readonly statusCode = 422;
}

/** A limit was reached (rate, holds); `retryAfterSeconds` says when trying again can succeed, when it is known. */
export class TooManyRequestsError extends AppError {
  override name = 'TooManyRequestsError';
  readonly statusCode = 429;
}

export class PayloadTooLargeError extends AppError {
  override name = 'PayloadTooLargeError';
  readonly statusCode = 413;
}

export class RequestTimeoutError extends AppError {
  override name = 'RequestTimeoutError';
  readonly statusCode = 408;
}

export class UnsupportedMediaTypeError extends AppError {
  override name = 'UnsupportedMediaTypeError';
  readonly statusCode = 415;
}

export class HeadersTooLargeError extends AppError {
  override name = 'HeadersTooLargeError';
  readonly statusCode = 431;
}

/** A dependency (database, Temporal) could not do its part now; nothing was recorded, and the client may retry. */
export class ServiceUnavailableError extends AppError {
  override name = 'ServiceUnavailableError';
  readonly statusCode = 503;
}
