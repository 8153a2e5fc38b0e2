import type { NextFunction, Request, Response } from 'express';
import {
  AttemptSupersededError,
  ConcurrentChangeError,
  HoldLimitReachedError,
  HoldExtensionLimitError,
  HoldLapsedError,
  NotOrderOwnerError,
  OrderNotActiveError,
  OrderCompleteError,
  OrderNotFoundError,
  RetryLaterError,
  TicketAlreadyReservedError,
  TicketNotFoundError,
} from '../orders/errors';
import type { Logger } from '../logger';
import { isTransientDatabaseError } from '../store/driver-errors';
import {
  AppError,
  BadRequestError,
  HeadersTooLargeError,
  ConflictError,
  NotAuthorizedError,
  NotFoundError,
  PayloadTooLargeError,
  RequestTimeoutError,
  ServiceUnavailableError,
  TooManyRequestsError,
  UnsupportedMediaTypeError,
} from './http-errors';

/** Unknown routes answer 404 in the contract's error shape. */
export function notFound(req: Request): never {
  throw new NotFoundError(`Route not found: ${req.method} ${req.path}`);
}

/**
 * The one error middleware, registered last: every error leaves as `{ errors: [...] }`.
 * Body-parser's errors (bad JSON, too large) are the client's, so they are 4xx, never 500.
 */
export function errorHandler(logger: Logger) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction): void => {
    const httpError = toHttpError(err);
    if (httpError) {
      if (httpError.statusCode >= 500) logger.warn({ err, path: req.path }, httpError.message);
      if (httpError.retryAfterSeconds !== undefined) res.set('Retry-After', String(httpError.retryAfterSeconds));
      res.status(httpError.statusCode).json(httpError.toJSON());
      return;
    }
    logger.error({ err, method: req.method, path: req.path }, 'unexpected error');
    res.status(500).json({ errors: [{ message: 'Something went wrong' }] });
  };
}

/** The one mapping from the domain's errors, the database's and Express's to HTTP (DESIGN.md's statuses). */
export function toHttpError(err: unknown): AppError | undefined {
  if (err instanceof AppError) return err;
  if (err instanceof TicketNotFoundError || err instanceof OrderNotFoundError) return new NotFoundError(err.message);
  // Another user's order answers as if unauthenticated, as the contract says: 401 "Not authorized".
  if (err instanceof NotOrderOwnerError) return new NotAuthorizedError();
  if (err instanceof HoldLimitReachedError) {
    const until = err.until ? Math.max(1, Math.ceil((Date.parse(err.until) - Date.now()) / 1000)) : undefined;
    return new TooManyRequestsError(err.message, until);
  }
  if (err instanceof TicketAlreadyReservedError || err instanceof OrderCompleteError) {
    return new BadRequestError(err.message);
  }
  // An extension that the order's state refuses: it has ended (or is ending), or reached its limit.
  if (err instanceof OrderNotActiveError || err instanceof HoldExtensionLimitError || err instanceof HoldLapsedError)
    return new ConflictError(err.message);
  if (err instanceof AttemptSupersededError) return new ConflictError(err.message);
  // A lost race or a database that is down or busy: nothing was written, and a retry may succeed.
  if (err instanceof ConcurrentChangeError || isTransientDatabaseError(err)) {
    return new ServiceUnavailableError('A dependency is busy or unavailable; try again');
  }
  // Its public words only: the dependency's own (hosts, addresses, credentials) stay in the log.
  if (err instanceof RetryLaterError) return new ServiceUnavailableError(err.message);
  return fromRequestParsing(err);
}

/**
 * Body-parser's and the router's errors, in the service's own words: their messages quote the
 * request back ("unsupported charset \"BOGUS\"") or leak a library's internals ("incorrect header
 * check" from zlib), so none of them is ever copied to the client.
 */
const BODY_ERRORS = new Map<string, () => AppError>(
  Object.entries({
    'entity.parse.failed': () => new BadRequestError('Request body is not valid JSON'),
    'entity.too.large': () => new PayloadTooLargeError('Request body is too large'),
    'entity.verify.failed': () => new BadRequestError('Request body was refused'),
    'parameters.too.many': () => new PayloadTooLargeError('Request body has more parameters than allowed'),
    'encoding.unsupported': () =>
      new UnsupportedMediaTypeError('Unsupported Content-Encoding: send gzip, deflate, br or an uncompressed body'),
    'charset.unsupported': () => new UnsupportedMediaTypeError('Unsupported charset: send JSON as UTF-8'),
    'request.aborted': () => new BadRequestError('Request was aborted before its body was received'),
    'request.size.invalid': () => new BadRequestError('Request body does not match its Content-Length'),
  }),
);

/** Any other 4xx that a library raised, by status only. */
const STATUS_ERRORS = new Map<number, () => AppError>([
  [408, () => new RequestTimeoutError('Request was not received in time')],
  [413, () => new PayloadTooLargeError('Request body is too large')],
  [415, () => new UnsupportedMediaTypeError('Unsupported media type')],
  [431, () => new HeadersTooLargeError('Request headers are too large')],
]);

function fromRequestParsing(err: unknown): AppError | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { type?: unknown; status?: unknown; statusCode?: unknown; code?: unknown; errno?: unknown };
  const byType = typeof e.type === 'string' ? BODY_ERRORS.get(e.type) : undefined;
  if (byType) return byType();
  const status = typeof e.status === 'number' ? e.status : typeof e.statusCode === 'number' ? e.statusCode : undefined;
  if (status === undefined || status < 400 || status >= 500) return undefined;
  // zlib's errors (a body that is not the Content-Encoding it claims) reach us without a type
  if (typeof e.code === 'string' && e.code.startsWith('Z_')) {
    return new BadRequestError('Request body could not be decompressed as its Content-Encoding says');
  }
  // the router could not decode a percent-encoded path parameter
  if (err instanceof URIError) return new BadRequestError('Request URL is not correctly encoded');
  return STATUS_ERRORS.get(status)?.() ?? new BadRequestError('Bad request');
}
