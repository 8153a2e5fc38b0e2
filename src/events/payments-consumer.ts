import type { JsMsg } from 'nats';
import type { Logger } from '../logger';
import { paymentsSetAside } from '../metrics';
import { Subjects } from '../orders/catalogue';
import { pay } from '../orders/decisions';
import type { OrderRepository, OrderWorkflows } from '../orders/ports';
import type { SetAsidePayment } from '../store/payments-set-aside';
import { done, handler } from './consumer';
import { PaymentCreatedEvent } from './incoming';

/** The durable consumer of `payment:created`; an expiry reads its progress (payments-progress.ts). */
export const PAYMENTS_CONSUMER = 'orders-payments';

/** Deliveries of one payment before it is set aside: about two minutes of back-off (events/consumer.ts). */
export const PAYMENT_MAX_ATTEMPTS = 8;

export interface PaymentHandlerDeps {
  orders: Pick<OrderRepository, 'apply'>;
  workflows: Pick<OrderWorkflows, 'signalPayment'>;
  setAside: { record(p: SetAsidePayment): Promise<void> };
  logger: Logger;
  maxAttempts?: number;
}

/**
 * `payment:created` is decided by the database as soon as it is consumed, judged by when it was
 * published (invariant 7): it completes an active order, or it is refused with `payment:rejected`.
 * Then the order's workflow is told, so that it stops waiting; a workflow that has already ended
 * needs nothing. If Temporal cannot be told now, the message comes again, and deciding it again
 * changes nothing.
 *
 * Every expiry waits until the payments before its deadline are decided, so one payment that can
 * never be decided would hold up all of them. After `maxAttempts` deliveries it is set aside
 * (table payments_set_aside, counted, logged at error level) and acked, and the others flow; an
 * outage cannot set one aside, since the set-aside row is written to the same database. A payment
 * decided whose workflow still cannot be told is acked too: its order is complete in the database,
 * and its workflow finds it so at its deadline.
 */
export function paymentHandlers({
  orders,
  workflows,
  setAside,
  logger,
  maxAttempts = PAYMENT_MAX_ATTEMPTS,
}: PaymentHandlerDeps) {
  return {
    [Subjects.PaymentCreated]: handler(PaymentCreatedEvent, async (payment, msg) => {
      const lastAttempt = msg.info.redeliveryCount >= maxAttempts;
      const ids = { orderId: payment.orderId, paymentId: payment.id };
      let decided: { accepted: boolean; status: string };
      try {
        decided = await orders.apply(pay(payment, publishedAt(msg)));
      } catch (err) {
        if (!lastAttempt) throw err;
        const reason = `no decision after ${msg.info.redeliveryCount} attempts: ${(err as Error).message}`;
        await setAside.record({ paymentId: payment.id, data: msg.string(), streamSeq: msg.seq, reason });
        paymentsSetAside.inc();
        logger.error({ ...ids, err, seq: msg.seq }, 'payment set aside: decide it by hand (payments_set_aside)');
        return done;
      }
      let told = false;
      try {
        told = decided.accepted && (await workflows.signalPayment(payment));
      } catch (err) {
        if (!lastAttempt) throw err;
        logger.warn({ ...ids, err }, 'workflow not told of its payment; it finds the order complete at its deadline');
      }
      logger.info({ ...ids, ...decided, told }, 'payment decided');
      return done;
    }),
  };
}

/** When the stream stored the message: when the payments service published it. */
const publishedAt = (msg: JsMsg): string => new Date(Math.floor(msg.info.timestampNanos / 1e6)).toISOString();
