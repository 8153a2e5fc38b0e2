import type { NextFunction, Request, Response } from 'express';
import {
  ConcurrentChangeError,
  HoldExtensionLimitError,
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
  ConflictError,
  NotAuthorizedError,
  NotFoundError,
  PayloadTooLargeError,
  ServiceUnavailableError,
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
  if (err instanceof TicketAlreadyReservedError || err instanceof OrderCompleteError) {
    return new BadRequestError(err.message);
  }
  // An extension that the order's state refuses: it has ended (or is ending), or reached its limit.
  if (err instanceof OrderNotActiveError || err instanceof HoldExtensionLimitError)
    return new ConflictError(err.message);
  // A lost race or a database that is down or busy: nothing was written, and a retry may succeed.
  if (err instanceof ConcurrentChangeError || isTransientDatabaseError(err)) {
    return new ServiceUnavailableError('A dependency is busy or unavailable; try again');
  }
  if (err instanceof RetryLaterError) return new ServiceUnavailableError(err.message);
  const e = err as { type?: string; status?: number };
  if (e.type === 'entity.parse.failed') return new BadRequestError('Request body is not valid JSON');
  if (e.type === 'entity.too.large') return new PayloadTooLargeError('Request body is too large');
  if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
    return new BadRequestError((err as Error).message || 'Bad request');
  }
  return undefined;
}
