import type { OutgoingEvent } from './catalogue';
import { HoldExtensionLimitError, OrderNotActiveError, OrderNotFoundError, type OrderRuleError } from './errors';
import {
  expirationComplete,
  orderCancelled,
  orderCreated,
  orderExpiring,
  orderUpdated,
  paymentRejected,
} from './events';
import {
  isActive,
  OrderStatus,
  type ActiveHolds,
  type HoldPolicy,
  type NewOrder,
  type Order,
  type OrderEnding,
  type OrderRecord,
  type Payment,
} from './order';
import { HoldLimitReachedError } from './errors';
import { prolong, transition, type OrderUpdate } from './transitions';

/**
 * What the domain decided: the order's new state and the events it causes. The store writes it
 * all in one transaction (a transactional outbox), so a change is never without its events.
 */
export interface Change<R> {
  result: R;
  /** A new order's record (or an expiry's tombstone). */
  insert?: OrderRecord;
  update?: OrderUpdate;
  events: OutgoingEvent[];
  /** The insert holds only while its user has fewer than `max` active orders; the store checks it atomically. */
  holdLimit?: { userId: string; max: number };
}

/** A decision about one order, made on its current record (undefined when there is none). */
export interface Command<R> {
  orderId: string;
  decide(current: OrderRecord | undefined): Change<R>;
}

const unchanged = <R>(result: R): Change<R> => ({ result, events: [] });

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

/** Where an order stands after a decision: what its workflow shows as its end. */
export interface Outcome {
  status: OrderStatus;
  ending?: OrderEnding;
  paymentId?: string;
}

const outcomeOf = ({ status, ending, paymentId }: OrderRecord): Outcome => ({
  status,
  ...(ending ? { ending } : {}),
  ...(paymentId ? { paymentId } : {}),
});

/** DELETE: an active order is cancelled, with `order:cancelled`; an ended one stays as it is. */
export const cancelByUser = (orderId: string): Command<{ status: OrderStatus | undefined }> => ({
  orderId,
  decide(current) {
    if (!current || current.tombstone || !isActive(current.status)) return unchanged({ status: current?.status });
    const update = transition(current, OrderStatus.Cancelled, { ending: 'cancelled-by-user' });
    return { result: { status: update.status }, update, events: [orderCancelled(current, update.version)] };
  },
});

/**
 * The deadline passed unpaid: `expiration:complete`, then the order is cancelled (`order:cancelled`).
 * An order that has already ended stays as it ended, and says how. No record means the API never
 * recorded the order: a tombstone takes its id (OrderRecord.tombstone).
 */
export const expire = (order: NewOrder, now: string): Command<Outcome> => ({
  orderId: order.orderId,
  decide(current) {
    const expired = { status: OrderStatus.Cancelled, ending: 'expired' } as const;
    if (!current) {
      const tombstone = {
        ...newRecord(order, OrderStatus.Cancelled, now),
        ending: 'expired' as const,
        tombstone: true,
      };
      return { result: expired, insert: tombstone, events: [] };
    }
    if (!isActive(current.status)) return unchanged(outcomeOf(current));
    const update = transition(current, OrderStatus.Cancelled, { ending: 'expired' });
    return {
      result: expired,
      update,
      events: [expirationComplete(current.id), orderCancelled(current, update.version)],
    };
  },
});

/**
 * The deadline is near: `order:expiring`, if the order still holds its ticket until that very
 * deadline. Nothing when it has ended (a payment the workflow has not heard of yet), when its
 * deadline has moved since (an extension: the new deadline gets its own reminder), or when the
 * deadline has passed (a reminder retried through an outage is too late). Nothing changes but the event.
 */
export const remindExpiring = (orderId: string, deadline: string, now: string): Command<{ reminded: boolean }> => ({
  orderId,
  decide(current) {
    const due =
      current &&
      !current.tombstone &&
      isActive(current.status) &&
      Date.parse(current.expiresAt) === Date.parse(deadline) &&
      Date.parse(now) < Date.parse(deadline);
    if (!due) return unchanged({ reminded: false });
    return { result: { reminded: true }, events: [orderExpiring(current)] };
  },
});

/**
 * Why the hold of an order cannot be extended now, or undefined when it can: the one rule, used by
 * the workflow's update validator and by the database's decision. No policy (a workflow started
 * before extensions existed) allows none.
 */
export function extensionRefusal(
  order: { status: OrderStatus; extensions: number },
  policy: HoldPolicy | undefined,
): OrderRuleError | undefined {
  if (!isActive(order.status)) return new OrderNotActiveError(order.status);
  const max = policy?.maxExtensions ?? 0;
  if (order.extensions >= max) return new HoldExtensionLimitError(max);
  return undefined;
}

export interface Extended {
  expiresAt: string;
  version: number;
  extensions: number;
}

/**
 * The holder gets more time: `expiresAt` moves by the policy's step from the current deadline,
 * version + 1, with `order:updated`. `extension` is the 1-based number the workflow asks for, so a
 * retried activity whose first attempt committed finds it applied and changes nothing.
 */
export const extendHold = (
  order: Pick<NewOrder, 'orderId' | 'ticket'>,
  extension: number,
  policy: HoldPolicy | undefined,
): Command<Extended> => ({
  orderId: order.orderId,
  decide(current) {
    if (!current || current.tombstone) throw new OrderNotFoundError();
    const { expiresAt, version, extensions } = current;
    if (extensions >= extension) return unchanged({ expiresAt, version, extensions });
    const refusal = extensionRefusal(current, policy);
    if (refusal) throw refusal;
    const moved = new Date(Date.parse(expiresAt) + policy!.extensionSeconds * 1000).toISOString();
    const update = prolong(current, moved);
    return {
      result: { expiresAt: moved, version: update.version, extensions: extensions + 1 },
      update,
      events: [orderUpdated(current, update, order.ticket.price)],
    };
  },
});

export type PaymentResult = Outcome & { accepted: boolean };

/**
 * A payment completes the order while it is active, if it was published before the order's
 * deadline (invariant 7: the deadline is judged by when the payment was published, not by when a
 * consumer got to it). Otherwise it is refused with `payment:rejected` (invariant 5), unless it is
 * the very payment that already completed the order (a redelivery). `publishedAt` is unknown when
 * the workflow confirms a payment the database has already decided.
 */
export const pay = (payment: Payment, publishedAt?: string): Command<PaymentResult> => ({
  orderId: payment.orderId,
  decide(current) {
    if (current?.paymentId === payment.id) return unchanged({ accepted: true, ...outcomeOf(current) });
    const inTime = publishedAt === undefined || !current || Date.parse(publishedAt) <= Date.parse(current.expiresAt);
    if (current && isActive(current.status) && inTime) {
      const update = transition(current, OrderStatus.Complete, { paymentId: payment.id, ending: 'paid' });
      const result = { accepted: true, status: update.status, ending: 'paid' as const, paymentId: payment.id };
      return { result, update, events: [] };
    }
    const reason = !current
      ? `order ${payment.orderId} is unknown`
      : isActive(current.status)
        ? `payment ${payment.id} was published at ${publishedAt}, after order ${current.id}'s hold ended at ${current.expiresAt}`
        : `order ${current.id} is already ${current.status}`;
    return {
      result: { accepted: false, ...(current ? outcomeOf(current) : { status: OrderStatus.Cancelled }) },
      events: [paymentRejected(payment, reason)],
    };
  },
});

/**
 * A payment that reached the workflow after the order ended: refused, so the payments service
 * refunds it, unless it is the payment that completed the order (the database decided it when it
 * was consumed, before its signal arrived).
 */
export const rejectPayment = (payment: Payment, reason: string): Command<{ rejected: boolean }> => ({
  orderId: payment.orderId,
  decide(current) {
    if (current?.paymentId === payment.id) return unchanged({ rejected: false });
    return { result: { rejected: true }, events: [paymentRejected(payment, reason)] };
  },
});

const newRecord = (order: NewOrder, status: OrderStatus, createdAt: string): OrderRecord => ({
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
