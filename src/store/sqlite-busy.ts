import {
  SqliteDialect,
  type CompiledQuery,
  type DatabaseConnection,
  type Driver,
  type QueryResult,
  type TransactionSettings,
} from 'kysely';

/** How long a statement may wait for the other process's write lock in all, as busy_timeout did. */
export const SQLITE_BUSY_BUDGET_MS = 5000;
const MAX_PAUSE_MS = 50;

/**
 * SQLite's own busy wait (busy_timeout) sleeps inside the statement, and better-sqlite3 runs every
 * statement synchronously: while the worker held the write lock, the API's whole event loop stood
 * still for up to 5 s (no request answered, no health check, no timer). Here SQLite answers
 * SQLITE_BUSY at once (busy_timeout 0), and the statement is tried again after a pause that lets
 * the event loop run (1 ms, doubling up to 50 ms), within the same budget. A busy statement has done
 * nothing, so trying it again is safe; a write transaction meets the lock only at its BEGIN IMMEDIATE.
 */
export class PatientSqliteDialect extends SqliteDialect {
  override createDriver(): Driver {
    return new PatientDriver(super.createDriver());
  }
}

class PatientDriver implements Driver {
  constructor(private readonly inner: Driver) {}
  init = () => this.inner.init();
  acquireConnection = async () => new PatientConnection(await this.inner.acquireConnection());
  beginTransaction = (c: DatabaseConnection, s: TransactionSettings) => this.inner.beginTransaction(c, s);
  commitTransaction = (c: DatabaseConnection) => this.inner.commitTransaction(c);
  rollbackTransaction = (c: DatabaseConnection) => this.inner.rollbackTransaction(c);
  releaseConnection = (c: DatabaseConnection) => this.inner.releaseConnection((c as PatientConnection).inner);
  destroy = () => this.inner.destroy();
}

class PatientConnection implements DatabaseConnection {
  constructor(readonly inner: DatabaseConnection) {}

  executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    return whileSqliteBusy(async () => this.inner.executeQuery<R>(query));
  }

  streamQuery<R>(query: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    return this.inner.streamQuery<R>(query, chunkSize);
  }
}

/**
 * Runs `attempt` until SQLite stops answering busy (SQLITE_BUSY and its extended codes: another
 * connection holds the lock), pausing between tries without blocking; past the budget, its error.
 * `onWait` hears the first busy answer (for a debug log).
 */
export async function whileSqliteBusy<T>(attempt: () => Promise<T>, onWait?: (err: unknown) => void): Promise<T> {
  const deadline = Date.now() + SQLITE_BUSY_BUDGET_MS;
  for (let pauseMs = 1; ; pauseMs = Math.min(pauseMs * 2, MAX_PAUSE_MS)) {
    try {
      return await attempt();
    } catch (err) {
      if (!isBusy(err) || Date.now() >= deadline) throw err;
      if (pauseMs === 1) onWait?.(err);
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  }
}

const isBusy = (err: unknown): boolean => /^SQLITE_(BUSY|LOCKED)/.test((err as { code?: string }).code ?? '');
