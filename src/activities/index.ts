import { ApplicationFailure } from '@temporalio/common';
import {
  decidedNow,
  discardUnrecorded,
  expire,
  extendHold,
  pay,
  rejectPayment,
  remindExpiring,
} from '../orders/decisions';
import { OrderRuleError } from '../orders/errors';
import type { OrderRepository, PaymentsProgress } from '../orders/ports';
import type { HoldPolicy, NewOrder, Payment } from '../orders/order';
import { expiryLateness } from '../metrics';

export interface ActivityDeps {
  orders: Pick<OrderRepository, 'apply' | 'record'>;
  payments: PaymentsProgress;
  now?: () => Date;
}

/**
 * The order workflow's side effects, over injected dependencies so tests can swap them. The
 * domain decides each change and the store writes it with its events in one transaction. Each is
 * idempotent: an order changes only from an active status, and outbox rows are keyed by message id.
 */
export function createActivities({ orders, payments, now = () => new Date() }: ActivityDeps) {
  return {
    /** The deadline passed unpaid: `expiration:complete`, then the order is cancelled (`order:cancelled`). */
    async expireOrder(order: NewOrder) {
      requireId(order.orderId, 'orderId');
      // A payment published before the deadline wins, even if it is still queued (invariant 7). Not
      // decided yet: this attempt fails at once, and Temporal tries again with back-off (1 s doubling
      // to 1 min): the workflow waits, never an activity slot.
      if (!(await payments.consumedUntil(order.expiresAt))) {
        throw ApplicationFailure.retryable(
          `payments published before ${order.expiresAt} are still waiting to be decided`,
          PAYMENTS_PENDING,
        );
      }
      const at = now();
      const outcome = await final(() => orders.apply(expire(order, at.toISOString())));
      // This attempt expired it (a retry that finds it so observes again: rare, and late anyway).
      if (outcome.ending === 'expired')
        expiryLateness.observe(Math.max(0, at.getTime() - Date.parse(order.expiresAt)) / 1000);
      return outcome;
    },

    /** A payment arrived: the order becomes complete, or the payment is refused if the order already ended. */
    async completeOrder(payment: Payment) {
      requireId(payment.orderId, 'orderId');
      requireId(payment.id, 'payment id');
      return final(() => orders.apply(pay(payment)));
    },

    /**
     * The holder asked for more time: the deadline moves by the policy's step, with `order:updated`.
     * `extension` is its 1-based number, so a retry finds it applied; a refusal fails for good.
     */
    async extendHold(order: Pick<NewOrder, 'orderId' | 'ticket'>, extension: number, policy: HoldPolicy | undefined) {
      requireId(order.orderId, 'orderId');
      return final(() => orders.apply(decidedNow((at) => extendHold(order, extension, policy, at), now)));
    },

    /**
     * The deadline is near and the workflow has heard of no ending: `order:expiring`, if the database
     * says the order is still active until `deadline` and it has not passed (`reminded: false` otherwise).
     */
    async remindExpiring(order: Pick<NewOrder, 'orderId'>, deadline: string) {
      requireId(order.orderId, 'orderId');
      return final(() => orders.apply(decidedNow((at) => remindExpiring(order.orderId, deadline, at), now)));
    },

    /**
     * The API could not record the order: a tombstone takes its id (`discarded: true`), unless an
     * order with that id exists (`discarded: false`: the workflow goes on, and the order's life ends it).
     */
    async discardUnrecorded(order: NewOrder) {
      requireId(order.orderId, 'orderId');
      return final(() => orders.apply(decidedNow((at) => discardUnrecorded(order, at), now)));
    },

    /**
     * A payment reached the workflow after the order ended: `payment:rejected`, so the payments
     * service refunds it, unless the database decided it completed the order (`rejected: false`).
     */
    async rejectPayment(payment: Payment, reason: string) {
      requireId(payment.id, 'payment id');
      return final(() => orders.apply(rejectPayment(payment, reason)));
    },
  };
}

export type OrderActivities = ReturnType<typeof createActivities>;

/** The failure type of an expiry attempt that found payments still to decide (it is retried). */
export const PAYMENTS_PENDING = 'PaymentsPending';

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
