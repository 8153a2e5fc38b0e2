import { HoldLimitReachedError } from '../errors';
import { orderCreated } from '../events';
import { OrderStatus, type ActiveHolds, type NewOrder, type Order, type OrderRecord } from '../order';
import type { Change } from './change';

/**
 * A new order holds its ticket: recorded as `created`, version 0, with `order:created`; with
 * `maxActivePerUser`, only while its user holds fewer active orders than that.
 */
export function place(
  order: NewOrder,
  createdAt: string,
  ticketVersion: number,
  maxActivePerUser?: number,
): Change<Order> {
  const status = OrderStatus.Created;
  return {
    // Built from what is written, not read back: one query less on the API's hot path.
    result: {
      id: order.orderId,
      userId: order.userId,
      status,
      expiresAt: order.expiresAt,
      version: 0,
      ticket: { ...order.ticket, version: ticketVersion },
    },
    insert: newRecord(order, status, createdAt),
    events: [orderCreated(order, status)],
    ...(maxActivePerUser !== undefined ? { holdLimit: { userId: order.userId, max: maxActivePerUser } } : {}),
  };
}

/** The hold limit's rule, for a fast refusal before anything starts (the store enforces it again, atomically). */
export function checkHoldLimit(holds: ActiveHolds, max: number): void {
  if (holds.count >= max) throw new HoldLimitReachedError(max, holds.earliestExpiry);
}

/** The record of an order that was never recorded before: a placed order's, or an expiry's tombstone. */
export const newRecord = (order: NewOrder, status: OrderStatus, createdAt: string): OrderRecord => ({
  id: order.orderId,
  userId: order.userId,
  ticketId: order.ticket.id,
  status,
  expiresAt: order.expiresAt,
  version: 0,
  paymentId: null,
  createdAt,
  extensions: 0,
  ending: null,
  tombstone: false,
});
