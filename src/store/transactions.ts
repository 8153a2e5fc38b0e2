import { sql, type Kysely } from 'kysely';
import type { DatabaseKind, Tables } from './schema';

export type Trx = Kysely<Tables>;

/**
 * One transaction on either engine. SQLite: `BEGIN IMMEDIATE` takes the write lock up front, so
 * two processes (API and worker) queue for the lock (store/sqlite-busy.ts) instead of failing to upgrade a read lock.
 * PostgreSQL: a plain transaction (READ COMMITTED); OrderStore.apply locks the order's row as it
 * reads it, and each order update is conditional on the version it read.
 */
export function inTransaction<T>(db: Kysely<Tables>, kind: DatabaseKind, work: (trx: Trx) => Promise<T>): Promise<T> {
  if (kind === 'postgres') return db.transaction().execute(work);
  return db.connection().execute(async (conn) => {
    await sql`begin immediate`.execute(conn);
    try {
      const result = await work(conn);
      await sql`commit`.execute(conn);
      return result;
    } catch (err) {
      await sql`rollback`.execute(conn);
      throw err;
    }
  });
}
