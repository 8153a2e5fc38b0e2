import { z } from 'zod';

/** Where orders are stored: PostgreSQL at DATABASE_URL, or embedded SQLite in DATA_DIR. */
export const databaseVariables = z.object({
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'DATABASE_URL must be a postgres:// URL (leave it unset for embedded SQLite)')
    .optional(),
  DATA_DIR: z.string().min(1).default('.data'),
  // PostgreSQL: a query waits at most this for a connection (a new one, or a free one of the pool).
  DATABASE_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5_000),
  // PostgreSQL: the server cancels a statement that runs longer (statement_timeout).
  DATABASE_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
});

/** How long a PostgreSQL pool waits for a connection, and the server for a statement; past either, 503. */
export interface PostgresTimeouts {
  connectMs: number;
  statementMs: number;
}

export const postgresTimeouts = (e: z.infer<typeof databaseVariables>): PostgresTimeouts => ({
  connectMs: e.DATABASE_CONNECT_TIMEOUT_MS,
  statementMs: e.DATABASE_STATEMENT_TIMEOUT_MS,
});

/** The defaults, for a pool opened without the config (tests' stores). */
export const DEFAULT_POSTGRES_TIMEOUTS: PostgresTimeouts = postgresTimeouts(databaseVariables.parse({}));
