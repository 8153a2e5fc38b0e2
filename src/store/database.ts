import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, sql } from 'kysely';
import { Pool, type Client, type PoolClient } from 'pg';
import { DEFAULT_POSTGRES_TIMEOUTS, type Config, type PostgresTimeouts } from '../config';
import type { Logger } from '../logger';
import { migrationProvider } from './migrations';
import type { DatabaseKind, Db, Tables } from './schema';
import { PatientSqliteDialect, SQLITE_BUSY_BUDGET_MS } from './sqlite-busy';

/** Opens the configured database: an embedded SQLite file by default, PostgreSQL for production. */
export function openDatabase(database: Config['database'], log: Logger): { db: Db; kind: DatabaseKind } {
  if (database.kind === 'postgres') {
    const pool = guardedPool(database.url, 10, log, 'PostgreSQL', database.timeouts);
    return { db: new Kysely<Tables>({ dialect: new PostgresDialect({ pool }) }), kind: 'postgres' };
  }
  fs.mkdirSync(path.dirname(database.file), { recursive: true });
  const sqlite = new SQLite(database.file);
  // WAL lets the API and the worker (two processes) read while the other writes. A writer that
  // meets the other's lock is told so at once, and waits without blocking the event loop (sqlite-busy.ts).
  sqlite.pragma('busy_timeout = 0');
  useWal(sqlite, SQLITE_BUSY_BUDGET_MS);
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  return {
    db: new Kysely<Tables>({ dialect: new PatientSqliteDialect({ database: reusingStatements(sqlite) }) }),
    kind: 'sqlite',
  };
}

/**
 * PostgreSQL's migrations, over a connection of their own without the statement timeout: a
 * migration, or the wait for another process's (migrateToLatest's lock), may outlast it.
 */
export function openMigrationDatabase(database: Config['database'] & { kind: 'postgres' }, log: Logger): Db {
  const timeouts = { ...(database.timeouts ?? DEFAULT_POSTGRES_TIMEOUTS), statementMs: 0 };
  const pool = guardedPool(database.url, 1, log, 'PostgreSQL (migrations)', timeouts);
  return new Kysely<Tables>({ dialect: new PostgresDialect({ pool }) });
}

/** How much longer than the server's statement_timeout the client waits for an answer (query_timeout). */
const ANSWER_GRACE_MS = 1000;

/**
 * A pg pool whose lost connections are failed queries, never a crashed process, and whose waits
 * all end (`timeouts`; a statementMs of 0: none): for a connection (connectionTimeoutMillis: a new
 * one, or a free one of the pool), for a statement (the server's statement_timeout), and for its
 * answer (query_timeout, a little later: a stalled network, where the server's cancel never arrives).
 * The server may drop an idle connection (restart, failover, pg_terminate_backend): pg reports that
 * on the pool, and an unheard 'error' event would crash the process; the pool has already discarded
 * the client and opens a fresh one for the next query. A connection that drops while checked out
 * emits 'error' on its client, where the pool does not listen: heard here, the query fails (and is
 * retried by its caller).
 */
export function guardedPool(
  url: string,
  max: number,
  log: Logger,
  what: string,
  { connectMs, statementMs }: PostgresTimeouts = DEFAULT_POSTGRES_TIMEOUTS,
): Pool {
  const pool = new Pool({
    connectionString: url,
    max,
    connectionTimeoutMillis: connectMs,
    statement_timeout: statementMs,
    query_timeout: statementMs && statementMs + ANSWER_GRACE_MS,
  });
  pool.on('error', (err) => log.warn({ err }, `idle ${what} connection lost; the pool will reconnect`));
  pool.on('connect', (client) => {
    client.on('error', (err) => log.warn({ err }, `${what} connection lost while in use`));
    closeWhenAnswerLost(client, log, what);
  });
  return pool;
}

/**
 * A query without an answer by query_timeout leaves its connection in an unknown state: the statement
 * may still run, or have run in a transaction whose ROLLBACK now queues behind it. Such a connection
 * is closed at once (the server rolls back what it had open), never handed to another request.
 */
function closeWhenAnswerLost(client: PoolClient, log: Logger, what: string): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  const watched = (...args: unknown[]): unknown => {
    const result = query(...args);
    if (result instanceof Promise) {
      result.catch((err: unknown) => {
        if ((err as Error | undefined)?.message !== 'Query read timeout') return;
        log.warn({ err }, `${what} did not answer in time; its connection is closed`);
        // the pool's client is a Client (its types leave end out): with a query outstanding, it ends the socket at once
        (client as unknown as Client).end().catch(() => {});
      });
    }
    return result;
  };
  Object.assign(client, { query: watched });
}

/**
 * Switching a new file to WAL needs it to itself for a moment, and there SQLite answers SQLITE_BUSY
 * at once instead of waiting out busy_timeout: processes that open a fresh file together ran into
 * it. The switch is idempotent (WAL stays in the file once one process has set it), so it is tried
 * again until `timeoutMs`, pausing synchronously as SQLite's own busy wait does.
 */
function useWal(sqlite: SQLite.Database, timeoutMs: number): void {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      sqlite.pragma('journal_mode = WAL');
      return;
    } catch (err) {
      // SQLITE_BUSY, or an extended code such as SQLITE_BUSY_RECOVERY (another process is recovering the new WAL)
      if (!(err as { code?: string }).code?.startsWith('SQLITE_BUSY') || Date.now() > deadline) throw err;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    }
  }
}

/**
 * kysely prepares every query anew, and SQLite compiles each one; the store sends the same few
 * statements over and over, so keep the compiled ones. Safe because better-sqlite3 runs a statement
 * to completion synchronously (the store never streams); bounded, oldest dropped first.
 */
function reusingStatements(sqlite: SQLite.Database, max = 200): SQLite.Database {
  const prepared = new Map<string, SQLite.Statement>();
  const prepare = sqlite.prepare.bind(sqlite);
  sqlite.prepare = ((source: string) => {
    let statement = prepared.get(source);
    if (!statement) {
      statement = prepare(source);
      if (prepared.size >= max) prepared.delete(prepared.keys().next().value!);
      prepared.set(source, statement);
    }
    return statement;
  }) as typeof sqlite.prepare;
  return sqlite;
}

/** This service's PostgreSQL advisory lock for migrating: any constant (kysely's own is another). */
const MIGRATION_LOCK_KEY = sql.lit(0x6f72646572); // "order" in ASCII

/**
 * Brings the schema up to date; safe to run from every process at start-up, all at the same moment:
 * the whole of it, kysely's bookkeeping tables included, runs under one lock on the database, so the
 * first process migrates and the others wait for it, then find nothing left to do.
 * - SQLite: BEGIN EXCLUSIVE on the store's one connection. kysely runs SQLite migrations outside a
 *   transaction and its lock there is a no-op (it assumes a single process), so processes started
 *   together each found the migration pending and ran it: `table "tickets" already exists`. SQLite's
 *   DDL is transactional, so the migration also commits whole or not at all: a process killed
 *   half-way leaves no half schema. A waiting process waits up to 5 s (store/sqlite-busy.ts),
 *   then fails its start and is restarted by its supervisor.
 * - PostgreSQL: a session advisory lock, held on one connection around the whole of it. kysely's own
 *   (pg_advisory_xact_lock) is taken inside the migrations' transaction only, after it has created
 *   its bookkeeping tables unlocked, relying on catching "already exists" there.
 * A lock, not a retry on "already exists": a retry would have to tell that error from a real one,
 * and would start again over a schema that another process may be half-way through.
 */
export async function migrateToLatest(db: Db, kind: DatabaseKind): Promise<string[]> {
  const unlock = sql`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`;
  const lock =
    kind === 'sqlite'
      ? { take: sql`begin exclusive`, keep: sql`commit`, drop: sql`rollback` }
      : { take: sql`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`, keep: unlock, drop: unlock };
  return db.connection().execute(async (conn) => {
    await lock.take.execute(conn);
    let applied: string[];
    try {
      const { error, results } = await new Migrator({ db: conn, provider: migrationProvider(kind) }).migrateToLatest();
      if (error) throw error instanceof Error ? error : new Error(String(error));
      applied = (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
    } catch (err) {
      await lock.drop.execute(conn).catch(() => {}); // the migration's error is the one to tell
      throw err;
    }
    await lock.keep.execute(conn);
    return applied;
  });
}
