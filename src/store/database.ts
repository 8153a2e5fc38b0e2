import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect } from 'kysely';
import { Pool } from 'pg';
import type { Config } from '../config';
import type { Logger } from '../logger';
import { migrationProvider } from './migrations';
import type { DatabaseKind, Db, Tables } from './schema';

/** Opens the configured database: an embedded SQLite file by default, PostgreSQL for production. */
export function openDatabase(database: Config['database'], log: Logger): { db: Db; kind: DatabaseKind } {
  if (database.kind === 'postgres') {
    const pool = new Pool({ connectionString: database.url, max: 10 });
    // The server may drop an idle connection (restart, failover, pg_terminate_backend). pg
    // reports that on the pool, and an unheard 'error' event would crash the process; the
    // pool has already discarded the client and opens a fresh one for the next query.
    pool.on('error', (err) => log.warn({ err }, 'idle PostgreSQL connection lost; the pool will reconnect'));
    return { db: new Kysely<Tables>({ dialect: new PostgresDialect({ pool }) }), kind: 'postgres' };
  }
  fs.mkdirSync(path.dirname(database.file), { recursive: true });
  const sqlite = new SQLite(database.file);
  // WAL lets the API and the worker (two processes) read while the other writes;
  // busy_timeout makes a writer wait for the lock instead of failing.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  return {
    db: new Kysely<Tables>({ dialect: new SqliteDialect({ database: reusingStatements(sqlite) }) }),
    kind: 'sqlite',
  };
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

/** Brings the schema up to date; safe to run from every process at start-up. */
export async function migrateToLatest(db: Db, kind: DatabaseKind): Promise<string[]> {
  const migrator = new Migrator({ db, provider: migrationProvider(kind) });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
