import type { NextFunction, Request, Response } from 'express';
import { AppError, BadRequestError, NotFoundError, PayloadTooLargeError, ServiceUnavailableError } from '../errors';
import type { Logger } from '../logger';

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
    const appError = toAppError(err);
    if (appError) {
      if (appError.statusCode >= 500) logger.warn({ err, path: req.path }, appError.message);
      res.status(appError.statusCode).json(appError.toJSON());
      return;
    }
    logger.error({ err, method: req.method, path: req.path }, 'unexpected error');
    res.status(500).json({ errors: [{ message: 'Something went wrong' }] });
  };
}

/**
 * Errors of a dependency that is down or busy: the client may retry, nothing was lost.
 * PostgreSQL: class 08 (connection exception), 53 (insufficient resources), 57P (shutdown,
 * restart, "cannot connect now"); pg's own "Connection terminated" when the socket drops.
 */
const TRANSIENT_CODES = new Set(['SQLITE_BUSY', 'SQLITE_LOCKED', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE']);
const TRANSIENT_POSTGRES_CODE = /^(08|53|57P)/;

function isTransient(e: { code?: string; name?: string; message?: string }): boolean {
  if (e.name === 'ConcurrentChangeError') return true;
  if (e.code && (TRANSIENT_CODES.has(e.code) || TRANSIENT_POSTGRES_CODE.test(e.code))) return true;
  return e.message?.startsWith('Connection terminated') === true;
}

function toAppError(err: unknown): AppError | undefined {
  if (err instanceof AppError) return err;
  const e = err as { type?: string; status?: number; code?: string; name?: string; message?: string };
  if (isTransient(e)) {
    return new ServiceUnavailableError('A dependency is busy or unavailable; try again');
  }
  if (e.type === 'entity.parse.failed') return new BadRequestError('Request body is not valid JSON');
  if (e.type === 'entity.too.large') return new PayloadTooLargeError('Request body is too large');
  if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
    return new BadRequestError((err as Error).message || 'Bad request');
  }
  return undefined;
}
