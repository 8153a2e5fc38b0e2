import type { Kysely, Migration } from 'kysely';

/** 0007–0008: the trace each outbox row was written in; the relays' claims on the rows. */
export const outboxRelayMigrations: Record<string, Migration> = {
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
};
