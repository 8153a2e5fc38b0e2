import { InvalidTransitionError } from './errors';
import { isActive, OrderStatus, type OrderEnding, type OrderRecord } from './order';

/**
 * The order's state machine: from each status, the statuses it may move to. `complete` and
 * `cancelled` are final (invariant 2). `awaiting:payment` is part of the contract's statuses;
 * this service moves an order straight from `created` to its end.
 */
const ALLOWED: Readonly<Record<OrderStatus, readonly OrderStatus[]>> = {
  [OrderStatus.Created]: [OrderStatus.AwaitingPayment, OrderStatus.Complete, OrderStatus.Cancelled],
  [OrderStatus.AwaitingPayment]: [OrderStatus.Complete, OrderStatus.Cancelled],
  [OrderStatus.Complete]: [],
  [OrderStatus.Cancelled]: [],
};

export const canTransition = (from: OrderStatus, to: OrderStatus): boolean => ALLOWED[from].includes(to);

/** A change of one order (its status, or its deadline): written only if the order is still at `expectedVersion`. */
export interface OrderUpdate {
  orderId: string;
  expectedVersion: number;
  status: OrderStatus;
  /** Set by an extension of the hold, with the new count of extensions. */
  expiresAt?: string;
  extensions?: number;
  /** Every change of an order bumps its version by one (DESIGN.md). */
  version: number;
  paymentId?: string;
  /** Set by the change that ends the order. */
  ending?: OrderEnding;
}

export function transition(
  order: Pick<OrderRecord, 'id' | 'status' | 'version'>,
  to: OrderStatus,
  extra: Pick<OrderUpdate, 'paymentId' | 'ending'> = {},
): OrderUpdate {
  if (!canTransition(order.status, to)) throw new InvalidTransitionError(order.id, order.status, to);
  return { orderId: order.id, expectedVersion: order.version, status: to, version: order.version + 1, ...extra };
}

/** An active order keeps its status and holds its ticket until `expiresAt`, one extension more. */
export function prolong(
  order: Pick<OrderRecord, 'id' | 'status' | 'version' | 'extensions'>,
  expiresAt: string,
): OrderUpdate & { expiresAt: string } {
  if (!isActive(order.status)) throw new InvalidTransitionError(order.id, order.status, order.status);
  return {
    orderId: order.id,
    expectedVersion: order.version,
    status: order.status,
    version: order.version + 1,
    expiresAt,
    extensions: order.extensions + 1,
  };
}
