import { sql, type Kysely } from 'kysely';
import { ServiceUnavailableError, TicketAlreadyReservedError } from '../errors';
import { outgoing, Subjects, type OutgoingEvent } from '../orders/catalogue';
import { ACTIVE_STATUSES, OrderStatus, type Order, type OrderEnding, type Ticket } from '../orders/order';
import type { OrderWorkflowInput, PaymentReceived } from '../workflows/shared';
import type { DatabaseKind, Db, Tables } from './database';

export type TicketUpdateResult = 'applied' | 'already-applied' | 'out-of-order' | 'unknown-ticket';
export interface PaymentResult {
  accepted: boolean;
  status: OrderStatus;
}

/** What the store tells its process after a commit. */
export interface StoreHooks {
  /** Events went into the outbox: the outbox relay of this process publishes at once instead of at its next poll. */
  eventsWritten?(): void;
  /** This commit ended an order (a retry that finds it ended already does not call it again): for metrics. */
  orderEnded?(ending: OrderEnding, orderId: string): void;
}

/** What one transaction did: its result, the events it wrote, and the ending it made, if any. */
interface Change<R> {
  result: R;
  events: OutgoingEvent[];
  ended?: { ending: OrderEnding; orderId: string };
}

/**
 * The order store: every change of an order and the events it causes are written in one
 * transaction (a transactional outbox), so a state change is never without its event and a
 * retried call never writes a second one. Each change is conditional on the current status,
 * so the database decides races between payment, expiry and cancellation (invariant 2).
 */
export class OrderStore {
  constructor(
    readonly db: Db,
    private readonly kind: DatabaseKind,
    private readonly hooks: StoreHooks = {},
  ) {}

  // ---- tickets: this service's copy, fed by ticket:created / ticket:updated ----

  async upsertTicket(ticket: Ticket): Promise<void> {
    await this.db
      .insertInto('tickets')
      .values(ticket)
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
  }

  /** Applies an update only when it is exactly the next version of the stored ticket. */
  async applyTicketUpdate(ticket: Ticket): Promise<TicketUpdateResult> {
    const result = await this.db
      .updateTable('tickets')
      .set({ title: ticket.title, price: ticket.price, version: ticket.version })
      .where('id', '=', ticket.id)
      .where('version', '=', ticket.version - 1)
      .executeTakeFirst();
    if (result.numUpdatedRows > 0n) return 'applied';
    const stored = await this.findTicket(ticket.id);
    if (!stored) return 'unknown-ticket';
    return stored.version >= ticket.version ? 'already-applied' : 'out-of-order';
  }

  async findTicket(id: string): Promise<Ticket | undefined> {
    return this.db.selectFrom('tickets').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** The ticket, and whether an active order holds it, in one query (the API's hot path). */
  async findTicketForOrder(id: string): Promise<{ ticket: Ticket; reserved: boolean } | undefined> {
    const row = await this.db
      .selectFrom('tickets')
      .leftJoin('orders', (join) =>
        join.onRef('orders.ticket_id', '=', 'tickets.id').on('orders.status', 'in', ACTIVE_STATUSES),
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

  // ---- orders ----

  /** Records a new order and its `order:created`; the unique index refuses a second active order for the ticket. */
  async createOrder(input: OrderWorkflowInput, createdAt: string, ticketVersion: number): Promise<Order> {
    const status = OrderStatus.Created;
    try {
      await this.transaction(async (trx) => {
        await trx
          .insertInto('orders')
          .values(orderRow(input, status, createdAt))
          .execute();
        return [
          outgoing(Subjects.OrderCreated, `${Subjects.OrderCreated}:${input.orderId}`, {
            id: input.orderId,
            version: 0,
            status,
            userId: input.userId,
            expiresAt: input.expiresAt,
            ticket: { id: input.ticket.id, price: input.ticket.price },
          }),
        ];
      });
    } catch (err) {
      if (isUniqueViolation(err, 'ticket')) throw new TicketAlreadyReservedError();
      // The id is taken by an expiry tombstone: the API stalled past the whole window before recording.
      if (isUniqueViolation(err, 'any'))
        throw new ServiceUnavailableError('The order expired before it was recorded; try again');
      throw err;
    }
    // Built from what was just written, not read back: one query less on the hot path.
    return {
      id: input.orderId,
      userId: input.userId,
      status,
      expiresAt: input.expiresAt,
      version: 0,
      ticket: { ...input.ticket, version: ticketVersion },
    };
  }

  async findOrder(id: string): Promise<Order | undefined> {
    const row = await this.ordersWithTicket().where('orders.id', '=', id).executeTakeFirst();
    return row && toOrder(row);
  }

  /** The user's orders, each with its ticket, oldest first. */
  async listOrders(userId: string): Promise<Order[]> {
    const rows = await this.ordersWithTicket()
      .where('orders.user_id', '=', userId)
      .orderBy('orders.created_at')
      .orderBy('orders.id')
      .execute();
    return rows.map(toOrder);
  }

  /** DELETE: cancels an active order. Returns the order as it now is (already ended orders are returned unchanged). */
  async cancelOrder(orderId: string): Promise<Order | undefined> {
    await this.transaction(async (trx) => {
      const order = await activeOrder(trx, orderId);
      if (!order) return [];
      const version = await bumpStatus(trx, order, OrderStatus.Cancelled);
      return {
        result: undefined,
        events: [orderCancelled(order, version)],
        ended: { ending: 'cancelled-by-user', orderId },
      };
    });
    return this.findOrder(orderId);
  }

  /**
   * Expiry: cancels the order if it is still active, with `expiration:complete` and `order:cancelled`.
   * If the API never recorded the order (it stopped between starting the workflow and the insert),
   * a tombstone takes the id, so that a late insert fails instead of creating an order no workflow ends.
   */
  async expireOrder(input: OrderWorkflowInput, now: string): Promise<{ status: OrderStatus }> {
    return this.transaction<{ status: OrderStatus }>(async (trx) => {
      const order = await trx.selectFrom('orders').selectAll().where('id', '=', input.orderId).executeTakeFirst();
      if (!order) {
        await trx
          .insertInto('orders')
          .values({ ...orderRow(input, OrderStatus.Cancelled, now), tombstone: 1 })
          .execute();
        return { result: { status: OrderStatus.Cancelled }, events: [] };
      }
      if (!ACTIVE_STATUSES.includes(order.status)) return { result: { status: order.status }, events: [] };
      const version = await bumpStatus(trx, order, OrderStatus.Cancelled);
      return {
        result: { status: OrderStatus.Cancelled },
        events: [
          outgoing(Subjects.ExpirationComplete, `${Subjects.ExpirationComplete}:${order.id}`, { orderId: order.id }),
          orderCancelled(order, version),
        ],
        ended: { ending: 'expired', orderId: order.id },
      };
    });
  }

  /**
   * A payment for the order: completes it if it is still active. Otherwise the payment is refused
   * with `payment:rejected` (unless it is the very payment that already completed the order).
   */
  async applyPayment(payment: PaymentReceived): Promise<PaymentResult> {
    return this.transaction<PaymentResult>(async (trx) => {
      const order = await trx.selectFrom('orders').selectAll().where('id', '=', payment.orderId).executeTakeFirst();
      if (order && ACTIVE_STATUSES.includes(order.status)) {
        await bumpStatus(trx, order, OrderStatus.Complete, { payment_id: payment.id });
        return {
          result: { accepted: true, status: OrderStatus.Complete },
          events: [],
          ended: { ending: 'paid', orderId: order.id },
        };
      }
      if (order?.payment_id === payment.id) return { result: { accepted: true, status: order.status }, events: [] };
      const reason = order ? `order ${order.id} is already ${order.status}` : `order ${payment.orderId} is unknown`;
      return {
        result: { accepted: false, status: order?.status ?? OrderStatus.Cancelled },
        events: [paymentRejected(payment, reason)],
      };
    });
  }

  /** Refuses a payment (idempotent by payment id): the payments service refunds it. */
  async rejectPayment(payment: PaymentReceived, reason: string): Promise<void> {
    await this.transaction(async () => [paymentRejected(payment, reason)]);
  }

  // ---- outbox ----

  async pendingEvents(limit: number): Promise<Array<{ id: number } & OutgoingEvent>> {
    const rows = await this.db
      .selectFrom('outbox')
      .select(['id', 'msg_id', 'subject', 'data'])
      .where('published_at', 'is', null)
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map((r) => ({
      id: Number(r.id),
      msgId: r.msg_id,
      subject: r.subject as OutgoingEvent['subject'],
      data: JSON.parse(r.data) as OutgoingEvent['data'],
    }));
  }

  async markPublished(ids: number[], at: string): Promise<void> {
    if (ids.length === 0) return;
    await this.db.updateTable('outbox').set({ published_at: at }).where('id', 'in', ids).execute();
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }

  // ---- internals ----

  /**
   * SQLite: `BEGIN IMMEDIATE` takes the write lock up front, so two processes (API and worker)
   * queue on busy_timeout instead of failing to upgrade a read lock. PostgreSQL: a plain transaction;
   * the version check in `bumpStatus` catches concurrent writers.
   */
  private inTransaction<T>(work: (trx: Kysely<Tables>) => Promise<T>): Promise<T> {
    if (this.kind === 'postgres') return this.db.transaction().execute(work);
    return this.db.connection().execute(async (conn) => {
      await sql`begin immediate`.execute(conn);
      try {
        const result = await work(conn);
        await sql`commit`.execute(conn);
        return result;
      } catch (err) {
        await sql`rollback`.execute(conn);
        throw err;
      }
    });
  }

  private ordersWithTicket() {
    return this.db
      .selectFrom('orders')
      .innerJoin('tickets', 'tickets.id', 'orders.ticket_id')
      .where('orders.tombstone', '=', 0)
      .select([
        'orders.id as id',
        'orders.user_id as userId',
        'orders.status as status',
        'orders.expires_at as expiresAt',
        'orders.version as version',
        'tickets.id as ticketId',
        'tickets.title as ticketTitle',
        'tickets.price as ticketPrice',
        'tickets.version as ticketVersion',
      ]);
  }

  /**
   * Runs `work` in a transaction and appends the events it returns to the outbox in that same
   * transaction. `work` returns either the events, or `{ result, events, ended }`.
   */
  private async transaction<R>(work: (trx: Kysely<Tables>) => Promise<OutgoingEvent[] | Change<R>>): Promise<R> {
    const change = await this.inTransaction(async (trx): Promise<Change<R>> => {
      const out = await work(trx);
      const change = Array.isArray(out) ? { result: undefined as R, events: out } : out;
      if (change.events.length > 0) {
        const createdAt = new Date().toISOString();
        await trx
          .insertInto('outbox')
          .values(
            change.events.map((e) => ({
              msg_id: e.msgId,
              subject: e.subject,
              data: JSON.stringify(e.data),
              created_at: createdAt,
            })),
          )
          .onConflict((oc) => oc.column('msg_id').doNothing())
          .execute();
      }
      return change;
    });
    if (change.events.length > 0) this.hooks.eventsWritten?.();
    if (change.ended) this.hooks.orderEnded?.(change.ended.ending, change.ended.orderId);
    return change.result;
  }
}

type OrderRow = Awaited<ReturnType<ReturnType<OrderStore['ordersWithTicket']>['executeTakeFirstOrThrow']>>;

function toOrder(row: OrderRow): Order {
  return {
    id: row.id,
    userId: row.userId,
    status: row.status,
    expiresAt: row.expiresAt,
    version: Number(row.version),
    ticket: {
      id: row.ticketId,
      title: row.ticketTitle,
      price: Number(row.ticketPrice),
      version: Number(row.ticketVersion),
    },
  };
}

type StoredOrder = Tables['orders'];

/** A new order's row, version 0, from what the workflow was started with. */
const orderRow = (input: OrderWorkflowInput, status: OrderStatus, createdAt: string) => ({
  id: input.orderId,
  user_id: input.userId,
  ticket_id: input.ticket.id,
  status,
  expires_at: input.expiresAt,
  version: 0,
  payment_id: null,
  created_at: createdAt,
});

async function activeOrder(trx: Kysely<Tables>, orderId: string) {
  return trx
    .selectFrom('orders')
    .selectAll()
    .where('id', '=', orderId)
    .where('status', 'in', ACTIVE_STATUSES)
    .where('tombstone', '=', 0)
    .executeTakeFirst();
}

/** Moves an order to a new status, version + 1, only if nobody changed it meanwhile. */
async function bumpStatus(
  trx: Kysely<Tables>,
  order: Pick<StoredOrder, 'id' | 'version'>,
  status: OrderStatus,
  extra: Partial<Pick<StoredOrder, 'payment_id'>> = {},
): Promise<number> {
  const version = Number(order.version) + 1;
  const result = await trx
    .updateTable('orders')
    .set({ status, version, ...extra })
    .where('id', '=', order.id)
    .where('version', '=', Number(order.version))
    .executeTakeFirst();
  if (result.numUpdatedRows !== 1n) throw new ConcurrentChangeError(order.id);
  return version;
}

/** Another writer changed the order between our read and our write; the caller's retry re-reads it. */
export class ConcurrentChangeError extends Error {
  override name = 'ConcurrentChangeError';
  constructor(orderId: string) {
    super(`order ${orderId} changed concurrently; retry`);
  }
}

const orderCancelled = (order: Pick<StoredOrder, 'id' | 'ticket_id'>, version: number) =>
  outgoing(Subjects.OrderCancelled, `${Subjects.OrderCancelled}:${order.id}`, {
    id: order.id,
    version,
    ticket: { id: order.ticket_id },
  });

const paymentRejected = (payment: PaymentReceived, reason: string) =>
  outgoing(Subjects.PaymentRejected, `${Subjects.PaymentRejected}:${payment.id}`, { ...payment, reason });

/** True when the error is the database refusing a duplicate: `on` picks the ticket index or any key. */
function isUniqueViolation(err: unknown, on: 'ticket' | 'any'): boolean {
  const e = err as { code?: string; constraint?: string; message?: string };
  const sqlite = e.code === 'SQLITE_CONSTRAINT_UNIQUE' || e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
  const postgres = e.code === '23505';
  if (!sqlite && !postgres) return false;
  if (on === 'any') return true;
  return postgres ? e.constraint === 'orders_one_active_per_ticket' : /orders\.ticket_id/.test(e.message ?? '');
}
