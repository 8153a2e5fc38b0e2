import { RESERVING_STATUSES, type Ticket } from '../orders/order';
import type { TicketLookup } from '../orders/ports';
import type { Db } from './schema';

export type TicketUpdateResult = 'applied' | 'already-applied' | 'out-of-order' | 'unknown-ticket';

/** This service's copy of tickets, fed by `ticket:created` and `ticket:updated`. */
export class TicketStore implements TicketLookup {
  constructor(private readonly db: Db) {}

  /** A ticket already known is kept: `ticket:created` may come twice. */
  async upsert(ticket: Ticket): Promise<void> {
    await this.db
      .insertInto('tickets')
      .values(ticket)
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
  }

  /** Applies an update only when it is exactly the next version of the stored ticket. */
  async applyUpdate(ticket: Ticket): Promise<TicketUpdateResult> {
    const result = await this.db
      .updateTable('tickets')
      .set({ title: ticket.title, price: ticket.price, version: ticket.version })
      .where('id', '=', ticket.id)
      .where('version', '=', ticket.version - 1)
      .executeTakeFirst();
    if (result.numUpdatedRows > 0n) return 'applied';
    const stored = await this.find(ticket.id);
    if (!stored) return 'unknown-ticket';
    return stored.version >= ticket.version ? 'already-applied' : 'out-of-order';
  }

  async find(id: string): Promise<Ticket | undefined> {
    return this.db.selectFrom('tickets').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async findForOrder(id: string): Promise<{ ticket: Ticket; reserved: boolean } | undefined> {
    const row = await this.db
      .selectFrom('tickets')
      .leftJoin('orders', (join) =>
        join.onRef('orders.ticket_id', '=', 'tickets.id').on('orders.status', 'in', RESERVING_STATUSES),
      )
      .select(['tickets.id', 'tickets.title', 'tickets.price', 'tickets.version', 'orders.id as orderId'])
      .where('tickets.id', '=', id)
      .executeTakeFirst();
    if (!row) return undefined;
    const { orderId, ...ticket } = row;
    return {
      ticket: { ...ticket, price: Number(ticket.price), version: Number(ticket.version) },
      reserved: orderId !== null,
    };
  }
}
