/** The order as clients and the other services see it (DESIGN.md, "The order as the API returns it"). */
export const OrderStatus = {
  Created: 'created',
  AwaitingPayment: 'awaiting:payment',
  Complete: 'complete',
  Cancelled: 'cancelled',
} as const;
export type OrderStatus = (typeof OrderStatus)[keyof typeof OrderStatus];

/** Statuses of an order still waiting for its payment: the hold limit counts these. */
export const ACTIVE_STATUSES: readonly OrderStatus[] = [OrderStatus.Created, OrderStatus.AwaitingPayment];
export const isActive = (status: OrderStatus): boolean => ACTIVE_STATUSES.includes(status);
/**
 * Statuses that reserve the ticket (invariant 3, the course's `Ticket.isReserved()`): an active
 * order holds it, a complete one has sold it. The database allows one such order per ticket.
 */
export const RESERVING_STATUSES: readonly OrderStatus[] = [...ACTIVE_STATUSES, OrderStatus.Complete];

export interface Ticket {
  id: string;
  title: string;
  price: number;
  version: number;
}

export interface Order {
  id: string;
  userId: string;
  status: OrderStatus;
  expiresAt: string;
  version: number;
  ticket: Ticket;
}

/** How an order reached its end, kept for the Web UI, the logs and the metrics. */
/** `not-recorded`: the API could not record the order (a rule refused it, or a retry took its request over). */
export type OrderEnding = 'paid' | 'expired' | 'cancelled-by-user' | 'not-recorded';

/** A payment as the service decided it, once for good: it completed its order, or it was refused. */
export interface DecidedPayment {
  paymentId: string;
  orderId: string;
  accepted: boolean;
}

/** How much longer the holder may keep the ticket: fixed when the order is placed. */
export interface HoldPolicy {
  /** How many times the hold may be extended (0: never). */
  maxExtensions: number;
  /** How far each extension moves the deadline, from the current `expiresAt`. */
  extensionSeconds: number;
}

/** A new order, as the API places it and its workflow receives it: everything its life needs. */
export interface NewOrder {
  orderId: string;
  userId: string;
  ticket: { id: string; title: string; price: number };
  expiresAt: string;
  /** Absent in workflows started before extensions existed: their hold cannot be extended. */
  holdPolicy?: HoldPolicy;
  /**
   * How long before `expiresAt` an order still active gets `order:expiring` (0: none); fixed when
   * it is placed. Absent (placed by an API from before reminders): the default.
   */
  expiringReminderSeconds?: number;
}

/** ORDER_EXPIRING_REMINDER_SECONDS's default, and the reminder of an order placed without one. */
export const DEFAULT_EXPIRING_REMINDER_SECONDS = 120;

/** What the user's active orders are now: how many, and when the first of them ends at the latest. */
export interface ActiveHolds {
  count: number;
  /** The earliest `expiresAt` among them; absent when there are none. */
  earliestExpiry?: string;
}

/**
 * An order decided before it is placed: its id and its deadline. A request retried with its
 * Idempotency-Key places the same plan again, so it can only ever be one order.
 */
export interface OrderPlan {
  orderId: string;
  expiresAt: string;
}

/** A `payment:created` event: the payments service charged the buyer for the order. */
export interface Payment {
  id: string;
  orderId: string;
  stripeId: string;
}

/** An order as it is recorded: what the rules decide on. */
export interface OrderRecord {
  id: string;
  userId: string;
  ticketId: string;
  status: OrderStatus;
  expiresAt: string;
  version: number;
  paymentId: string | null;
  createdAt: string;
  /** How many times its hold was extended. */
  extensions: number;
  /** How it ended; null while it is active. */
  ending: OrderEnding | null;
  /**
   * Left by an expiry that found no order (the API stopped between starting the workflow and
   * recording the order): it takes the id, so a late insert fails instead of creating an order
   * that no workflow would end (docs/reliability.md, invariant 1).
   */
  tombstone: boolean;
}
