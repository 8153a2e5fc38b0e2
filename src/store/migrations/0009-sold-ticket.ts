import { sql, type Kysely, type Migration } from 'kysely';
import { TICKET_RESERVATION_INDEX } from '../driver-errors';

/** The statuses that reserved a ticket when 0009 was written; a released migration never changes. */
const RESERVING_SQL = "('created', 'awaiting:payment', 'complete')";

/** 0009: a sold ticket stays sold (invariant 3). */
export const soldTicketMigrations: Record<string, Migration> = {
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
