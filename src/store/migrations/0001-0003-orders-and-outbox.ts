import { sql, type Kysely, type Migration } from 'kysely';
import type { DatabaseKind } from '../schema';

/** 0001–0003: the tickets, orders and outbox tables; how an order ended; outbox rows set aside, and pruned. */
export function ordersAndOutboxMigrations(kind: DatabaseKind): Record<string, Migration> {
  return {
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
  };
}
