import { Subjects, type EventPayloads, type OutgoingEvent, type Subject } from './catalogue';
import type { NewOrder, OrderRecord, Payment } from './order';

type OrderUpdateFields = { version: number; status: OrderRecord['status']; expiresAt: string };

/**
 * The events that the order's changes cause, with their payloads exactly as the other services
 * parse them. Each has one message id per subject and entity (`<subject>:<id>`): a retried
 * activity or a restarted process writes the same id again, and the outbox and JetStream keep one.
 */
const event = <S extends Subject>(subject: S, entityId: string, data: EventPayloads[S]): OutgoingEvent<S> => ({
  subject,
  msgId: `${subject}:${entityId}`,
  data,
});

export const orderCreated = (order: NewOrder, status: OrderRecord['status']) =>
  event(Subjects.OrderCreated, order.orderId, {
    id: order.orderId,
    version: 0,
    status,
    userId: order.userId,
    expiresAt: order.expiresAt,
    ticket: { id: order.ticket.id, price: order.ticket.price },
  });

/** One per version: each extension of the hold is a new event. */
export const orderUpdated = (
  order: Pick<OrderRecord, 'id' | 'userId' | 'status' | 'ticketId'>,
  update: OrderUpdateFields,
  price: number,
) =>
  event(Subjects.OrderUpdated, `${order.id}:${update.version}`, {
    id: order.id,
    version: update.version,
    status: update.status,
    userId: order.userId,
    expiresAt: update.expiresAt,
    ticket: { id: order.ticketId, price },
  });

/**
 * One per deadline (`<id>:<expiresAt>`): a retried reminder writes it once, and an extension, which
 * moves the deadline, makes room for a new reminder before the new one.
 */
export const orderExpiring = (order: Pick<OrderRecord, 'id' | 'version' | 'userId' | 'expiresAt' | 'ticketId'>) =>
  event(Subjects.OrderExpiring, `${order.id}:${order.expiresAt}`, {
    id: order.id,
    version: order.version,
    userId: order.userId,
    expiresAt: order.expiresAt,
    ticket: { id: order.ticketId },
  });

export const orderCancelled = (order: Pick<OrderRecord, 'id' | 'ticketId'>, version: number) =>
  event(Subjects.OrderCancelled, order.id, { id: order.id, version, ticket: { id: order.ticketId } });

export const expirationComplete = (orderId: string) => event(Subjects.ExpirationComplete, orderId, { orderId });

/** Keyed by the payment: each refused payment is refunded once, whatever order it named. */
export const paymentRejected = (payment: Payment, reason: string) =>
  event(Subjects.PaymentRejected, payment.id, { ...payment, reason });
