import type { Kysely, Migration } from 'kysely';

/** 0010–0012: each payment decided once, ever; where each consumer had got to; payments no decision could be made for. */
export const paymentsAndPositionsMigrations: Record<string, Migration> = {
  // Every payment:created the service decided, accepted or refused, in the transaction that decided
  // it: the same payment again (a replay of the stream, a redelivery after its outbox row was pruned)
  // changes nothing and publishes nothing (invariant 5: one payment:rejected per payment).
  '0010_payments_decided': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('payments_decided')
        .addColumn('payment_id', 'text', (c) => c.primaryKey())
        .addColumn('order_id', 'text', (c) => c.notNull())
        .addColumn('accepted', 'integer', (c) => c.notNull())
        .addColumn('decided_at', 'text', (c) => c.notNull())
        .execute();
    },
  },
  // The ack floor of each durable consumer, as JetStream last reported it: a consumer that is lost
  // (deleted, its stream restored) is created again from there, instead of from the stream's start.
  '0011_consumer_positions': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('consumer_positions')
        .addColumn('durable', 'text', (c) => c.primaryKey())
        .addColumn('stream_seq', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
    },
  },
  // A payment:created whose decision kept failing (not an outage: the set-aside row is written to the
  // same database) is kept here with why, and acked, so that it no longer holds up every expiry.
  '0012_payments_set_aside': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('payments_set_aside')
        .addColumn('payment_id', 'text', (c) => c.primaryKey())
        .addColumn('data', 'text', (c) => c.notNull())
        .addColumn('stream_seq', 'bigint', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('set_aside_at', 'text', (c) => c.notNull())
        .execute();
    },
  },
};
