/**
 * The API's rate limits (rate-limiter-flexible), counted in the service's own database so that every
 * replica shares them: `rate_limits` (migration 0005) through RateLimiterPostgres or RateLimiterSQLite.
 * - per IP, before authentication: bad tokens are counted too; the address is `req.ip`, which
 *   believes X-Forwarded-For only from the proxies of TRUST_PROXY;
 * - per user, after it: keyed by the user's id.
 * Every limited response carries the IETF draft-ietf-httpapi-ratelimit-headers fields
 * (`RateLimit-Policy: "per-user";q=300;w=60`, `RateLimit: "per-user";r=<remaining>;t=<seconds>`);
 * a refused one is a 429 in the error shape with `Retry-After`.
 *
 * A store that fails fails open: the request is counted in this process's memory instead (a
 * RateLimiterMemory, as rate-limiter-flexible's insuranceLimiter would), with a warning log, never a 500.
 */
import SQLite from 'better-sqlite3';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { guardedPool } from '../store/database';
import { whileSqliteBusy } from '../store/sqlite-busy';
import {
  RateLimiterMemory,
  RateLimiterPostgres,
  RateLimiterRes,
  RateLimiterSQLite,
  type RateLimiterAbstract,
} from 'rate-limiter-flexible';
import type { Config } from '../config';
import type { Logger } from '../logger';
import { RepeatedWarnings } from '../temporal/repeats';
import { TooManyRequestsError } from './http-errors';

export const RATE_LIMIT_WINDOW_SECONDS = 60;
const TABLE = 'rate_limits';
const PRUNE_EVERY_MS = 5 * 60_000;

export interface RateLimits {
  /** Before authentication: keyed by the client's address. */
  perIp: RequestHandler;
  /** After authentication (needs `req.currentUser`): keyed by the user's id. */
  perUser: RequestHandler;
  /** Closes the store's connection (and stops pruning); idempotent. */
  close(): Promise<void>;
}

const pass: RequestHandler = (_req, _res, next) => next();

/** No limits: what buildApp uses when given none (the tests of other things). */
export const noRateLimits: RateLimits = { perIp: pass, perUser: pass, close: () => Promise.resolve() };

export interface RateLimitOptions {
  database: Config['database'];
  perUserPerMinute: number;
  perIpPerMinute: number;
  logger: Logger;
}

/** The limits over the service's database (already migrated: the table is 0005's); a limit of 0 is off. */
export function openRateLimits({ database, perUserPerMinute, perIpPerMinute, logger }: RateLimitOptions): RateLimits {
  if (perUserPerMinute === 0 && perIpPerMinute === 0) return noRateLimits;
  const store = database.kind === 'postgres' ? postgresStore(database, logger) : sqliteStore(database.file, logger);
  const warnings = new RepeatedWarnings(({ repeated, last }) =>
    logger.warn({ repeated, last }, 'rate-limit store failures repeated; requests were counted in memory'),
  );
  const prune = setInterval(() => {
    store.prune(Date.now() - 3600_000).catch((err: unknown) => logger.debug({ err }, 'rate-limit pruning failed'));
  }, PRUNE_EVERY_MS).unref();
  const policy = (name: string, points: number, keyOf: (req: Request) => string, who: string) =>
    points === 0 ? pass : limiter({ name, points, keyOf, who, store, logger, warnings });
  let closed: Promise<void> | undefined;
  return {
    perIp: policy('per-ip', perIpPerMinute, (req) => req.ip ?? req.socket.remoteAddress ?? 'unknown', 'address'),
    perUser: policy('per-user', perUserPerMinute, (req) => req.currentUser?.id ?? 'anonymous', 'user'),
    close: () => {
      clearInterval(prune);
      warnings.flush();
      closed ??= store.close();
      return closed;
    },
  };
}

interface Store {
  limiter(keyPrefix: string, points: number): RateLimiterAbstract;
  /** One count in the store: resolves with the result, rejects with a RateLimiterRes when over the limit. */
  consume(limiter: RateLimiterAbstract, key: string): Promise<RateLimiterRes>;
  prune(before: number): Promise<void>;
  close(): Promise<void>;
}

type Judged = { result: RateLimiterRes; refused: boolean };

/** rate-limiter-flexible rejects with a RateLimiterRes when a key is over its limit: a refusal, not a failure. */
const judged = (counting: Promise<RateLimiterRes>): Promise<Judged> =>
  counting.then(
    (result) => ({ result, refused: false }),
    (err: unknown) => {
      if (err instanceof RateLimiterRes) return { result: err, refused: true };
      throw err;
    },
  );

function limiter(p: {
  name: string;
  points: number;
  keyOf: (req: Request) => string;
  who: string;
  store: Store;
  logger: Logger;
  warnings: RepeatedWarnings;
}): RequestHandler {
  const shared = p.store.limiter(p.name, p.points);
  const memory = new RateLimiterMemory({ keyPrefix: p.name, points: p.points, duration: RATE_LIMIT_WINDOW_SECONDS });
  const policy = `"${p.name}";q=${p.points};w=${RATE_LIMIT_WINDOW_SECONDS}`;

  const count = async (key: string): Promise<Judged> => {
    try {
      return await judged(p.store.consume(shared, key));
    } catch (err) {
      const message = (err as Error).message ?? String(err);
      if (p.warnings.admit(p.name, message)) {
        p.logger.warn({ err, policy: p.name }, 'rate-limit store failed: counting in memory (fail open)');
      }
    }
    return judged(memory.consume(key));
  };

  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const { result, refused } = await count(p.keyOf(req));
    const resetSeconds = Math.max(0, Math.ceil(result.msBeforeNext / 1000));
    res.append('RateLimit-Policy', policy);
    res.append('RateLimit', `"${p.name}";r=${result.remainingPoints};t=${resetSeconds}`);
    if (refused) {
      const retryAfter = Math.max(1, resetSeconds);
      throw new TooManyRequestsError(
        `Too many requests: more than ${p.points} a minute from this ${p.who}; try again in ${retryAfter} seconds`,
        retryAfter,
      );
    }
    next();
  };
}

/**
 * A connection of its own on the store's file. better-sqlite3 is synchronous: a busy_timeout would
 * wait for the write lock with the event loop stopped, and when this process's own store holds it
 * (BEGIN IMMEDIATE, with awaits inside) that lock cannot be released until the wait gives up. So
 * busy_timeout is 0 here and a busy database is waited for asynchronously, retrying, as the store's
 * own connection does (store/sqlite-busy.ts); then the request fails open. The count's own transaction is
 * one synchronous call, so it never holds the lock across an await.
 */
function sqliteStore(file: string, logger: Logger): Store {
  const db = new SQLite(file, { fileMustExist: true });
  db.pragma('busy_timeout = 0');
  db.pragma('synchronous = NORMAL');
  const onWait = (err: unknown) =>
    logger.debug({ code: (err as { code?: string }).code }, 'rate-limit store busy: waiting');
  return {
    limiter: (keyPrefix, points) =>
      new RateLimiterSQLite({ storeClient: db, storeType: 'better-sqlite3', ...tableOptions(keyPrefix, points) }),
    consume: (limiter, key) => whileSqliteBusy(() => limiter.consume(key), onWait),
    prune: (before) =>
      whileSqliteBusy(async () => void db.prepare(`DELETE FROM ${TABLE} WHERE expire < ?`).run(before), onWait),
    close: async () => void db.close(),
  };
}

/** Both stores count in migration 0005's table, which expired rows leave on a timer of ours (the library's is off). */
const tableOptions = (keyPrefix: string, points: number) => ({
  tableName: TABLE,
  tableCreated: true,
  clearExpiredByTimeout: false,
  keyPrefix,
  points,
  duration: RATE_LIMIT_WINDOW_SECONDS,
});

/** A small pool of its own, with the store's guards: a dropped connection is a failed count, never a crash. */
function postgresStore({ url, timeouts }: Config['database'] & { kind: 'postgres' }, logger: Logger): Store {
  const pool = guardedPool(url, 4, logger, 'rate-limit PostgreSQL', timeouts);
  return {
    limiter: (keyPrefix, points) =>
      new RateLimiterPostgres({ storeClient: pool, storeType: 'pool', ...tableOptions(keyPrefix, points) }),
    consume: (limiter, key) => limiter.consume(key),
    prune: async (before) => void (await pool.query(`DELETE FROM ${TABLE} WHERE expire < $1`, [before])),
    close: () => pool.end(),
  };
}
