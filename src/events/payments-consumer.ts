import type { Logger } from '../logger';
import { Subjects } from '../orders/catalogue';
import { PaymentCreatedEvent } from './incoming';
import { pay, paymentRoute } from '../orders/decisions';
import type { OrderRepository, OrderWorkflows } from '../orders/ports';
import { done, handler } from './consumer';

/**
 * `payment:created`, routed by the domain's rule: while the order is active its workflow decides
 * (a signal), otherwise the database decides alone, refusing a payment for an ended order with
 * `payment:rejected`.
 */
export function paymentHandlers(
  orders: Pick<OrderRepository, 'find' | 'apply'>,
  workflows: Pick<OrderWorkflows, 'signalPayment'>,
  logger: Logger,
) {
  return {
    [Subjects.PaymentCreated]: handler(PaymentCreatedEvent, async (payment) => {
      const order = await orders.find(payment.orderId);
      if (paymentRoute(order) === 'signal-workflow') {
        if (await workflows.signalPayment(payment)) return done;
        logger.warn(
          { orderId: payment.orderId },
          'order is active but its workflow has ended; applying the payment directly',
        );
      }
      const { accepted, status } = await orders.apply(pay(payment));
      logger.info({ orderId: payment.orderId, paymentId: payment.id, accepted, status }, 'payment for an ended order');
      return done;
    }),
  };
}
