import { ApplicationFailure } from '@temporalio/common';
import type { OrderStore } from '../store/order-store';
import type { OrderWorkflowInput, PaymentReceived } from '../workflows/shared';

export interface ActivityDeps {
  store: Pick<OrderStore, 'expireOrder' | 'applyPayment' | 'rejectPayment'>;
  now?: () => Date;
}

/**
 * The order workflow's side effects, over injected dependencies so tests can swap them.
 * Each is idempotent: the store changes an order only from an active status, and outbox
 * rows are keyed by a message id derived from the order or payment id.
 */
export function createActivities({ store, now = () => new Date() }: ActivityDeps) {
  return {
    /** The deadline passed unpaid: `expiration:complete`, then the order is cancelled (`order:cancelled`). */
    async expireOrder(order: OrderWorkflowInput) {
      requireId(order.orderId, 'orderId');
      return store.expireOrder(order, now().toISOString());
    },

    /** A payment arrived: the order becomes complete, or the payment is refused if the order already ended. */
    async completeOrder(payment: PaymentReceived) {
      requireId(payment.orderId, 'orderId');
      requireId(payment.id, 'payment id');
      return store.applyPayment(payment);
    },

    /** A payment arrived after the order ended: `payment:rejected`, so the payments service refunds it. */
    async rejectPayment(payment: PaymentReceived, reason: string) {
      requireId(payment.id, 'payment id');
      await store.rejectPayment(payment, reason);
    },
  };
}

export type OrderActivities = ReturnType<typeof createActivities>;

function requireId(value: unknown, what: string): void {
  if (typeof value !== 'string' || value.length === 0) {
    throw ApplicationFailure.nonRetryable(`${what} is missing`, 'InvalidPayload');
  }
}
