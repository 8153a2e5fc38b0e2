import { sql } from 'kysely';
import type { Change, Command } from '../orders/decisions';
import {
  ConcurrentChangeError,
  HoldLimitReachedError,
  OrderExpiredBeforeRecordedError,
  TicketAlreadyReservedError,
} from '../orders/errors';
import { ACTIVE_STATUSES, type ActiveHolds, type DecidedPayment, type Order, type OrderEnding } from '../orders/order';
import type { AttemptFence, OrderRepository } from '../orders/ports';
import type { OrderUpdate } from '../orders/transitions';
import { isUniqueViolation } from './driver-errors';
import { answerWithOrder } from './idempotency';
import { ordersWithTicket, toOrder, toRecord, toRow } from './order-rows';
import { appendToOutbox } from './outbox';
import { indexSafeId } from './safe-ids';
import type { DatabaseKind, Db } from './schema';
import { inTransaction, type Trx } from './transactions';

/** What the store tells its process after a commit. */
export interface StoreHooks {
  /** Events went into the outbox: this process's relay publishes at once instead of at its next poll. */
  eventsWritten?(): void;
  /** A new order was recorded: for metrics. */
  orderPlaced?(orderId: string): void;
  /** This commit ended an order (a retry that finds it ended does not call it again): for metrics. */
  orderEnded?(ending: OrderEnding, orderId: string): void;
}

/**
 * Orders and the events their changes cause. Every change that the domain decided is written
 * with its events in one transaction, and each update is conditional on the version it was
 * decided on, so the database decides races between payment, expiry and cancellation (invariant 2).
 */
export class OrderStore implements OrderRepository {
  constructor(
    private readonly db: Db,
    private readonly kind: DatabaseKind,
    private readonly hooks: StoreHooks = {},
  ) {}

  async find(id: string): Promise<Order | undefined> {
    const row = await ordersWithTicket(this.db).where('orders.id', '=', id).executeTakeFirst();
    return row && toOrder(row);
  }

  async listByUser(userId: string): Promise<Order[]> {
    const rows = await ordersWithTicket(this.db)
      .where('orders.user_id', '=', userId)
      .orderBy('orders.created_at')
      .orderBy('orders.id')
      .execute();
    return rows.map(toOrder);
  }

  async record<R>(change: Change<R>, fence?: AttemptFence): Promise<R> {
    try {
      await inTransaction(this.db, this.kind, async (trx) => {
        await write(trx, this.kind, change);
        if (fence && change.insert) await answerWithOrder(trx, fence, change.insert.id, change.result);
      });
    } catch (err) {
      if (change.insert && isUniqueViolation(err, 'ticket')) throw new TicketAlreadyReservedError();
      if (change.insert && isUniqueViolation(err, 'any')) throw new OrderExpiredBeforeRecordedError();
      throw err;
    }
    this.committed(change);
    return change.result;
  }

  /**
   * Reads the order, decides, writes: one step per order. A decision that writes only events (a
   * reminder) has no version to condition on, so on PostgreSQL the read locks the row (FOR UPDATE):
   * a command waits for one in flight and decides on the row it committed. SQLite's BEGIN IMMEDIATE
   * already holds the write lock before the read.
   */
  async apply<R>(command: Command<R>): Promise<R> {
    const change = await inTransaction(this.db, this.kind, async (trx) => {
      const row = await trx
        .selectFrom('orders')
        .selectAll()
        .where('id', '=', command.orderId)
        .$if(this.kind === 'postgres', (q) => q.forUpdate())
        .executeTakeFirst();
      // Read after the order's row lock: a payment's two deciders (consumer, workflow) take turns on it.
      const payment = command.paymentId && (await decidedPayment(trx, command.paymentId));
      const decided = command.decide(row && toRecord(row), payment || undefined);
      await write(trx, this.kind, decided);
      return decided;
    });
    this.committed(change);
    return change.result;
  }

  private committed(change: Change<unknown>): void {
    if (change.events.length > 0) this.hooks.eventsWritten?.();
    if (change.insert && !change.insert.tombstone) this.hooks.orderPlaced?.(change.insert.id);
    // Only the change that ends an order carries its ending: a retry that finds it ended does not count.
    if (change.update?.ending) this.hooks.orderEnded?.(change.update.ending, change.update.orderId);
  }
}

async function write(trx: Trx, kind: DatabaseKind, change: Change<unknown>): Promise<void> {
  if (change.holdLimit) await withinHoldLimit(trx, kind, change.holdLimit);
  if (change.insert) await trx.insertInto('orders').values(toRow(change.insert)).execute();
  if (change.update) await update(trx, change.update);
  if (change.decidedPayment) {
    const { paymentId, orderId, accepted } = change.decidedPayment;
    await trx
      .insertInto('payments_decided')
      .values({
        payment_id: indexSafeId(paymentId),
        order_id: orderId,
        accepted: accepted ? 1 : 0,
        decided_at: new Date().toISOString(),
      })
      .execute();
  }
  await appendToOutbox(trx, change.events);
}

async function decidedPayment(trx: Trx, paymentId: string): Promise<DecidedPayment | undefined> {
  const row = await trx
    .selectFrom('payments_decided')
    .selectAll()
    .where('payment_id', '=', indexSafeId(paymentId))
    .executeTakeFirst();
  return row && { paymentId, orderId: row.order_id, accepted: row.accepted === 1 };
}

async function activeHoldsOf(db: Trx, userId: string): Promise<ActiveHolds> {
  const row = await db
    .selectFrom('orders')
    .select((eb) => [eb.fn.countAll<string | number>().as('count'), eb.fn.min('expires_at').as('earliestExpiry')])
    .where('user_id', '=', userId)
    .where('status', 'in', ACTIVE_STATUSES)
    .where('tombstone', '=', 0)
    .executeTakeFirstOrThrow();
  return { count: Number(row.count), ...(row.earliestExpiry ? { earliestExpiry: row.earliestExpiry } : {}) };
}

/**
 * The hold limit, checked in the transaction that inserts the order. Concurrent POSTs of one user
 * take turns: on PostgreSQL a transaction-scoped advisory lock per user, on SQLite the write lock
 * that `BEGIN IMMEDIATE` already holds. So no two of them can both see a free slot.
 */
async function withinHoldLimit(trx: Trx, kind: DatabaseKind, { userId, max }: { userId: string; max: number }) {
  if (kind === 'postgres') {
    await sql`select pg_advisory_xact_lock(hashtextextended(${`orders-hold:${userId}`}, 0))`.execute(trx);
  }
  const holds = await activeHoldsOf(trx, userId);
  if (holds.count >= max) throw new HoldLimitReachedError(max, holds.earliestExpiry);
}

/** Writes the change (status, deadline) only if nobody changed the order since it was read. */
async function update(trx: Trx, u: OrderUpdate): Promise<void> {
  const result = await trx
    .updateTable('orders')
    .set({
      status: u.status,
      version: u.version,
      ...(u.paymentId ? { payment_id: u.paymentId } : {}),
      ...(u.ending ? { ending: u.ending } : {}),
      ...(u.expiresAt ? { expires_at: u.expiresAt } : {}),
      ...(u.extensions !== undefined ? { extensions: u.extensions } : {}),
    })
    .where('id', '=', u.orderId)
    .where('version', '=', u.expectedVersion)
    .executeTakeFirst();
  if (result.numUpdatedRows !== 1n) throw new ConcurrentChangeError(u.orderId);
}
