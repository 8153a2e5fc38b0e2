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

/** The request conflicts with the order's state (it has ended, or its hold cannot be extended again). */
export class ConflictError extends AppError {
  override name = 'ConflictError';
  readonly statusCode = 409;
}

export class PayloadTooLargeError extends AppError {
  override name = 'PayloadTooLargeError';
  readonly statusCode = 413;
}

/** A dependency (database, Temporal) could not do its part now; nothing was recorded, and the client may retry. */
export class ServiceUnavailableError extends AppError {
  override name = 'ServiceUnavailableError';
  readonly statusCode = 503;
}
