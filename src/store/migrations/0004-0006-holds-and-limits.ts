import { sql, type Kysely, type Migration } from 'kysely';
import type { DatabaseKind } from '../schema';

/** 0004–0006: Idempotency-Keys and the hold limit's index; the shared rate-limit counters; hold extensions. */
export function holdsAndLimitsMigrations(kind: DatabaseKind): Record<string, Migration> {
  return {
    '0004_idempotency_keys_and_holds': {
      async up(db: Kysely<unknown>) {
        // POST /api/orders with an Idempotency-Key: one row per user and key, kept 24 hours. The
        // row holds the order's plan (id, deadline) from the first attempt, so every retry places
        // the same order; `status_code` and `response` are the answer once there is one.
        await db.schema
          .createTable('idempotency_keys')
          .addColumn('user_id', 'text', (c) => c.notNull())
          .addColumn('key', 'text', (c) => c.notNull())
          .addColumn('fingerprint', 'text', (c) => c.notNull())
          .addColumn('order_id', 'text', (c) => c.notNull())
          .addColumn('expires_at', 'text', (c) => c.notNull())
          .addColumn('status_code', 'integer')
          .addColumn('response', 'text')
          .addColumn('locked_until', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('idempotency_keys_pk', ['user_id', 'key'])
          .execute();
        await db.schema.createIndex('idempotency_keys_by_age').on('idempotency_keys').column('created_at').execute();
        // The hold limit counts a user's active orders on every POST.
        await db.schema
          .createIndex('orders_active_by_user')
          .on('orders')
          .column('user_id')
          .where(sql.ref('status'), 'in', ['created', 'awaiting:payment'])
          .execute();
      },
    },
    // The API's rate-limit counters (api/rate-limits.ts), here so that every replica shares them:
    // the columns rate-limiter-flexible's RateLimiterSQLite and RateLimiterPostgres read and write
    // (key = "<policy>:<user id or address>", points used, expire in ms since the epoch).
    '0005_rate_limits': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('rate_limits')
          .addColumn('key', 'text', (c) => c.primaryKey())
          .addColumn('points', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('expire', kind === 'postgres' ? 'bigint' : 'integer')
          .execute();
        // Expired rows are deleted in the background, by expire.
        await db.schema.createIndex('rate_limits_expire').on('rate_limits').column('expire').execute();
      },
    },
    // How many times an order's hold was extended (POST /api/orders/:orderId/extend): the limit is
    // decided on it, and a retried extension finds it already applied. The order's deadline is
    // expires_at, moved by each extension.
    '0006_order_extensions': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .alterTable('orders')
          .addColumn('extensions', 'integer', (c) => c.notNull().defaultTo(0))
          .execute();
      },
    },
  };
}
