import type { JsMsg } from 'nats';
import type { Logger } from '../logger';
import { Subjects } from '../orders/catalogue';
import { pay } from '../orders/decisions';
import { PaymentCreatedEvent } from './incoming';
import type { OrderRepository, OrderWorkflows } from '../orders/ports';
import { done, handler } from './consumer';

/** The durable consumer of `payment:created`; an expiry reads its progress (payments-progress.ts). */
export const PAYMENTS_CONSUMER = 'orders-payments';

/**
 * `payment:created` is decided by the database as soon as it is consumed, judged by when it was
 * published (invariant 7): it completes an active order, or it is refused with `payment:rejected`.
 * Then the order's workflow is told, so that it stops waiting; a workflow that has already ended
 * needs nothing. If Temporal cannot be told now, the message comes again, and deciding it again
 * changes nothing.
 */
export function paymentHandlers(
  orders: Pick<OrderRepository, 'apply'>,
  workflows: Pick<OrderWorkflows, 'signalPayment'>,
  logger: Logger,
) {
  return {
    [Subjects.PaymentCreated]: handler(PaymentCreatedEvent, async (payment, msg) => {
      const { accepted, status } = await orders.apply(pay(payment, publishedAt(msg)));
      const told = accepted && (await workflows.signalPayment(payment));
      logger.info({ orderId: payment.orderId, paymentId: payment.id, accepted, status, told }, 'payment decided');
      return done;
    }),
  };
}

/** When the stream stored the message: when the payments service published it. */
const publishedAt = (msg: JsMsg): string => new Date(Math.floor(msg.info.timestampNanos / 1e6)).toISOString();
