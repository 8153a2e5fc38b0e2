/**
 * What the database drivers' errors mean, in one place: better-sqlite3's and pg's codes differ.
 */
/** At most one order that reserves its ticket (migration 0009). */
export const TICKET_RESERVATION_INDEX = 'orders_one_reservation_per_ticket';

type DriverError = { code?: string; constraint?: string; message?: string };

/** The database refused a duplicate: `on` picks the one-reservation-per-ticket index, or any key. */
export function isUniqueViolation(err: unknown, on: 'ticket' | 'any'): boolean {
  const e = err as DriverError;
  const sqlite = e.code === 'SQLITE_CONSTRAINT_UNIQUE' || e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
  const postgres = e.code === '23505';
  if (!sqlite && !postgres) return false;
  if (on === 'any') return true;
  return postgres ? e.constraint === TICKET_RESERVATION_INDEX : /orders\.ticket_id/.test(e.message ?? '');
}

/**
 * The database is down or busy: the same call may succeed later, and nothing was written.
 * PostgreSQL: class 08 (connection exception), 53 (insufficient resources), 57 (shutdown, restart,
 * "cannot connect now", 57014 a statement past statement_timeout); pg's own when the socket drops
 * ("Connection terminated", also past connectionTimeoutMillis), no connection is free in time, no
 * answer comes within query_timeout, or a client so closed is used again.
 */
const TRANSIENT_CODES = new Set(['SQLITE_BUSY', 'SQLITE_LOCKED', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE']);
const TRANSIENT_POSTGRES_CODE = /^(08|53|57)/;
const TRANSIENT_PG_MESSAGE =
  /^(Connection terminated|timeout exceeded when trying to connect$|Query read timeout$|Client (was closed|has encountered a connection error) and is not queryable$)/;

export function isTransientDatabaseError(err: unknown): boolean {
  const e = err as DriverError;
  if (e.code && (TRANSIENT_CODES.has(e.code) || TRANSIENT_POSTGRES_CODE.test(e.code))) return true;
  return TRANSIENT_PG_MESSAGE.test(e.message ?? '');
}
