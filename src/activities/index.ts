import { ApplicationFailure } from '@temporalio/common';
import { expire, pay, rejectPayment } from '../orders/decisions';
import { OrderRuleError } from '../orders/errors';
import type { OrderRepository } from '../orders/ports';
import type { NewOrder, Payment } from '../orders/order';

export interface ActivityDeps {
  orders: Pick<OrderRepository, 'apply' | 'record'>;
  now?: () => Date;
}

/**
 * The order workflow's side effects, over injected dependencies so tests can swap them. The
 * domain decides each change and the store writes it with its events in one transaction. Each is
 * idempotent: an order changes only from an active status, and outbox rows are keyed by message id.
 */
export function createActivities({ orders, now = () => new Date() }: ActivityDeps) {
  return {
    /** The deadline passed unpaid: `expiration:complete`, then the order is cancelled (`order:cancelled`). */
    async expireOrder(order: NewOrder) {
      requireId(order.orderId, 'orderId');
      return final(() => orders.apply(expire(order, now().toISOString())));
    },

    /** A payment arrived: the order becomes complete, or the payment is refused if the order already ended. */
    async completeOrder(payment: Payment) {
      requireId(payment.orderId, 'orderId');
      requireId(payment.id, 'payment id');
      return final(() => orders.apply(pay(payment)));
    },

    /** A payment arrived after the order ended: `payment:rejected`, so the payments service refunds it. */
    async rejectPayment(payment: Payment, reason: string) {
      requireId(payment.id, 'payment id');
      await final(() => orders.record(rejectPayment(payment, reason)));
    },
  };
}

export type OrderActivities = ReturnType<typeof createActivities>;

/** A rule's refusal stays a refusal on every retry: the activity fails for good (retries are for outages). */
async function final<T>(decide: () => Promise<T>): Promise<T> {
  try {
    return await decide();
  } catch (err) {
    if (err instanceof OrderRuleError) throw ApplicationFailure.nonRetryable(err.message, err.name);
    throw err;
  }
}

function requireId(value: unknown, what: string): void {
  if (typeof value !== 'string' || value.length === 0) {
    throw ApplicationFailure.nonRetryable(`${what} is missing`, 'InvalidPayload');
  }
}
