import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Logger } from '../logger';
import { isActive } from '../orders/order';
import type { OrderStore } from '../store/order-store';
import { orderWorkflowId, paymentReceivedSignal } from '../workflows/shared';
import { PaymentCreatedEvent, Subjects, TicketCreatedEvent, TicketUpdatedEvent } from '../orders/catalogue';
import { done, handler, later, runConsumer, type RunningConsumer } from './consumer';
import type { EventBus } from './jetstream';

/** This service's copy of tickets. An update applies only as the next version; an early one comes again later. */
export function ticketHandlers(store: Pick<OrderStore, 'upsertTicket' | 'applyTicketUpdate'>) {
  return {
    [Subjects.TicketCreated]: handler(TicketCreatedEvent, async ({ id, title, price, version }) => {
      await store.upsertTicket({ id, title, price, version });
      return done;
    }),
    [Subjects.TicketUpdated]: handler(TicketUpdatedEvent, async ({ id, title, price, version }) => {
      const result = await store.applyTicketUpdate({ id, title, price, version });
      if (result === 'applied' || result === 'already-applied') return done;
      return later(`ticket ${id} version ${version} arrived before the previous version (${result})`);
    }),
  };
}

/**
 * A payment becomes a signal to the order's workflow, which decides with the database.
 * If the workflow has already ended, the database decides alone: a payment for an order
 * that is no longer active is refused with `payment:rejected`.
 */
export function paymentHandlers(
  store: Pick<OrderStore, 'findOrder' | 'applyPayment'>,
  temporal: Pick<Client, 'workflow'>,
  logger: Logger,
) {
  return {
    [Subjects.PaymentCreated]: handler(PaymentCreatedEvent, async (payment) => {
      const order = await store.findOrder(payment.orderId);
      if (order && isActive(order.status)) {
        try {
          await temporal.workflow.getHandle(orderWorkflowId(order.id)).signal(paymentReceivedSignal, payment);
          return done;
        } catch (err) {
          if (!(err instanceof WorkflowNotFoundError)) throw err;
          logger.warn(
            { orderId: order.id },
            'order is active but its workflow has ended; applying the payment directly',
          );
        }
      }
      const { accepted, status } = await store.applyPayment(payment);
      logger.info({ orderId: payment.orderId, paymentId: payment.id, accepted, status }, 'payment for an ended order');
      return done;
    }),
  };
}

export async function startListeners(
  bus: EventBus,
  store: OrderStore,
  temporal: Pick<Client, 'workflow'>,
  logger: Logger,
): Promise<RunningConsumer[]> {
  return Promise.all([
    runConsumer(bus, 'orders-tickets', ticketHandlers(store), logger),
    runConsumer(bus, 'orders-payments', paymentHandlers(store, temporal, logger), logger),
  ]);
}
