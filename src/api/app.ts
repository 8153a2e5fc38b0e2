import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import helmet from 'helmet';
import { DEFAULT_TRUST_PROXY, type TrustProxy } from '../config';
import { httpRequestSeconds } from '../metrics';
import type { Logger } from '../logger';
import type { OrderService } from '../orders/order-service';
import { requireUser } from './auth';
import { openApiDocument } from './openapi';
import { errorHandler, notFound } from './error-handler';
import type { IdempotentOrders } from './idempotency';
import { HeadersTooLargeError } from './http-errors';
import { ordersRouter } from './orders.routes';
import { noRateLimits, type RateLimits } from './rate-limits';

export interface AppDeps {
  orders: OrderService;
  /** POST /api/orders with an Idempotency-Key. */
  idempotency: IdempotentOrders;
  jwtKey: string;
  logger: Logger;
  /** Extra routes mounted before authentication (health checks). */
  publicRoutes?: express.Router;
  /** Per-IP and per-user limits (rate-limits.ts); none when not given. */
  limits?: RateLimits;
  /** Express's `trust proxy`: whose X-Forwarded-For is believed for `req.ip` (TRUST_PROXY). */
  trustProxy?: TrustProxy;
}

/** The HTTP app, separate from the server so that tests run it in-process on port 0. */
export function buildApp({
  orders,
  idempotency,
  jwtKey,
  logger,
  publicRoutes,
  limits = noRateLimits,
  trustProxy = DEFAULT_TRUST_PROXY,
}: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', trustProxy);
  app.use(timeRequests);
  // Security headers on every answer, errors included. A JSON API loads nothing: the strictest CSP.
  app.use(
    helmet({
      contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
    }),
  );
  app.use(limitCookies);
  // Health checks and metrics first: never limited.
  if (publicRoutes) app.use(publicRoutes);
  // Before authentication (and before the body is read): a flood of bad tokens is refused too.
  app.use(limits.perIp);
  app.use(express.json({ limit: '16kb' }));
  const document = openApiDocument();
  app.get('/openapi.json', (_req, res) => {
    res.json(document);
  });
  app.use('/api/orders', requireUser(jwtKey), limits.perUser);
  app.use(ordersRouter(orders, idempotency));
  app.use(notFound);
  app.use(errorHandler(logger));
  return app;
}

/** Request durations by route pattern (not raw path, so ids do not explode the label set). */
function timeRequests(req: Request, res: Response, next: NextFunction): void {
  const end = httpRequestSeconds.startTimer();
  res.on('finish', () => {
    const route = req.route ? `${req.baseUrl}${String(req.route.path)}` : 'unmatched';
    end({ method: req.method, route, status: String(res.statusCode) });
  });
  next();
}

/** The session cookie is a few hundred bytes; cookies far larger than any browser keeps are refused, not parsed. */
export const MAX_COOKIE_BYTES = 8192;

function limitCookies(req: Request, _res: Response, next: NextFunction): void {
  const cookie = req.headers.cookie;
  if (cookie && Buffer.byteLength(cookie) > MAX_COOKIE_BYTES)
    throw new HeadersTooLargeError('Request cookies are too large');
  next();
}
