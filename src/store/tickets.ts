import { ACTIVE_STATUSES, RESERVING_STATUSES, type Ticket } from '../orders/order';
import type { TicketForOrder, TicketLookup } from '../orders/ports';
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

  /**
   * The ticket, whether an order holds it, and `userId`'s active holds (how many, and when the first
   * ends): what placing an order checks first, in one statement on the API's hot path.
   */
  async findForOrder(id: string, userId: string): Promise<TicketForOrder | undefined> {
    const held = () =>
      this.db
        .selectFrom('orders as held')
        .where('held.user_id', '=', userId)
        .where('held.status', 'in', ACTIVE_STATUSES)
        .where('held.tombstone', '=', 0);
    const row = await this.db
      .selectFrom('tickets')
      .leftJoin('orders', (join) =>
        join.onRef('orders.ticket_id', '=', 'tickets.id').on('orders.status', 'in', RESERVING_STATUSES),
      )
      .select(['tickets.id', 'tickets.title', 'tickets.price', 'tickets.version', 'orders.id as orderId'])
      .select(() => [
        held()
          .select((sub) => sub.fn.countAll<string | number>().as('n'))
          .as('holds'),
        held()
          .select((sub) => sub.fn.min('held.expires_at').as('e'))
          .as('earliestExpiry'),
      ])
      .where('tickets.id', '=', id)
      .executeTakeFirst();
    if (!row) return undefined;
    const { orderId, holds, earliestExpiry, ...ticket } = row;
    return {
      ticket: { ...ticket, price: Number(ticket.price), version: Number(ticket.version) },
      reserved: orderId !== null,
      holds: { count: Number(holds), ...(earliestExpiry ? { earliestExpiry } : {}) },
    };
  }
}
