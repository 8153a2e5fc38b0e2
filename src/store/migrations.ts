import { sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import { TICKET_RESERVATION_INDEX } from './driver-errors';
import type { DatabaseKind } from './schema';

/** The statuses that reserved a ticket when 0009 was written; a released migration never changes. */
const RESERVING_SQL = "('created', 'awaiting:payment', 'complete')";

/**
 * Migrations live in code (not files read at run time) so that they ship inside `dist/`.
 * Add a new entry for every change; never edit one that has been released.
 */
export function migrationProvider(kind: DatabaseKind): MigrationProvider {
  const migrations: Record<string, Migration> = {
    '0001_orders_tickets_outbox': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('tickets')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('title', 'text', (c) => c.notNull())
          .addColumn('price', 'double precision', (c) => c.notNull())
          .addColumn('version', 'integer', (c) => c.notNull())
          .execute();

        await db.schema
          .createTable('orders')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('user_id', 'text', (c) => c.notNull())
          .addColumn('ticket_id', 'text', (c) => c.notNull().references('tickets.id'))
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('expires_at', 'text', (c) => c.notNull())
          .addColumn('version', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('payment_id', 'text')
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('tombstone', 'integer', (c) => c.notNull().defaultTo(0))
          .execute();
        await db.schema.createIndex('orders_by_user').on('orders').columns(['user_id', 'created_at', 'id']).execute();
        // Invariant 3: at most one active order per ticket, enforced by the database itself.
        await db.schema
          .createIndex('orders_one_active_per_ticket')
          .on('orders')
          .column('ticket_id')
          .unique()
          .where(sql.ref('status'), 'in', ['created', 'awaiting:payment'])
          .execute();

        await db.schema
          .createTable('outbox')
          .addColumn('id', kind === 'postgres' ? 'bigserial' : 'integer', (c) =>
            kind === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
          )
          .addColumn('msg_id', 'text', (c) => c.notNull().unique())
          .addColumn('subject', 'text', (c) => c.notNull())
          .addColumn('data', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('published_at', 'text')
          .execute();
        await db.schema
          .createIndex('outbox_pending')
          .on('outbox')
          .column('id')
          .where(sql.ref('published_at'), 'is', null)
          .execute();
      },
    },
    // How an order ended, for the Web UI and the workflow's result: an expiry that finds an order
    // already cancelled must say "cancelled by the user", not "expired".
    '0002_orders_ending': {
      async up(db: Kysely<unknown>) {
        await db.schema.alterTable('orders').addColumn('ending', 'text').execute();
      },
    },
    '0003_outbox_set_aside_and_prune': {
      async up(db: Kysely<unknown>) {
        // A row that NATS refuses for good is set aside (invariant 8): when, and NATS's reason.
        await db.schema.alterTable('outbox').addColumn('failed_at', 'text').execute();
        await db.schema.alterTable('outbox').addColumn('failure', 'text').execute();
        // The relay reads the rows neither published nor set aside, in order.
        await db.schema.dropIndex('outbox_pending').execute();
        await db.schema
          .createIndex('outbox_unsent')
          .on('outbox')
          .column('id')
          .where(sql.ref('published_at'), 'is', null)
          .where(sql.ref('failed_at'), 'is', null)
          .execute();
        // The relay deletes published rows, oldest first, in small batches: this keeps each one cheap.
        await db.schema
          .createIndex('outbox_published')
          .on('outbox')
          .column('published_at')
          .where(sql.ref('published_at'), 'is not', null)
          .execute();
      },
    },
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
    // OpenTelemetry: the trace an event was written in (W3C `traceparent`, `tracestate`), so that its
    // relay publishes it in that trace, with a `traceparent` header (null: written without tracing).
    '0007_outbox_trace_context': {
      async up(db: Kysely<unknown>) {
        await db.schema.alterTable('outbox').addColumn('traceparent', 'text').execute();
        await db.schema.alterTable('outbox').addColumn('tracestate', 'text').execute();
      },
    },
    // Every worker runs a relay: each claims the oldest unsent rows for a lease (who, until when),
    // so that one relay publishes each row, and a dead relay's rows are taken over once it expires.
    '0008_outbox_claims': {
      async up(db: Kysely<unknown>) {
        await db.schema.alterTable('outbox').addColumn('claimed_by', 'text').execute();
        await db.schema.alterTable('outbox').addColumn('claimed_until', 'text').execute();
      },
    },
    // Invariant 3 as the course has it: a complete order keeps its ticket (sold), so the unique index
    // covers `complete` too. A database that already sold a ticket twice keeps those orders as they
    // are: per ticket, the first complete order (else its active one) stays under the index, and the
    // others are marked exempt, so that creating the index cannot fail on the past.
    '0009_sold_ticket_stays_sold': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .alterTable('orders')
          .addColumn('reservation_exempt', 'integer', (c) => c.notNull().defaultTo(0))
          .execute();
        await sql`
          update orders set reservation_exempt = 1
          where status in ${sql.raw(RESERVING_SQL)}
            and ticket_id in (
              select ticket_id from orders where status in ${sql.raw(RESERVING_SQL)}
              group by ticket_id having count(*) > 1)
            and id <> (
              select keeper.id from orders keeper
              where keeper.ticket_id = orders.ticket_id and keeper.status in ${sql.raw(RESERVING_SQL)}
              order by case when keeper.status = 'complete' then 0 else 1 end, keeper.created_at, keeper.id
              limit 1)`.execute(db);
        await db.schema.dropIndex('orders_one_active_per_ticket').execute();
        await db.schema
          .createIndex(TICKET_RESERVATION_INDEX)
          .on('orders')
          .column('ticket_id')
          .unique()
          .where(sql.ref('status'), 'in', ['created', 'awaiting:payment', 'complete'])
          .where(sql.ref('reservation_exempt'), '=', 0)
          .execute();
      },
    },
  };
  return { getMigrations: () => Promise.resolve(migrations) };
}
