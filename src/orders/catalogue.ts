import type { Payment } from './order';

/**
 * The event catalogue: every subject this service publishes or consumes, with its payload.
 * Subjects and payloads are exactly those the other services of the ticketing system use
 * (docs/contract.md); `payment:rejected`, `order:updated` and `order:expiring` are this service's additions
 * (docs/events.md).
 * The events that each change of an order causes are built in events.ts.
 * Code imports these constants, never string literals. What arrives from the other services is
 * validated at the edge, by events/incoming.ts.
 */
export const Subjects = {
  TicketCreated: 'ticket:created',
  TicketUpdated: 'ticket:updated',
  OrderCreated: 'order:created',
  OrderCancelled: 'order:cancelled',
  OrderUpdated: 'order:updated',
  OrderExpiring: 'order:expiring',
  ExpirationComplete: 'expiration:complete',
  PaymentCreated: 'payment:created',
  PaymentRejected: 'payment:rejected',
} as const;
export type Subject = (typeof Subjects)[keyof typeof Subjects];

/** Every subject the stream captures. Listed by name: `:` is not a token separator, so no wildcard works. */
export const ALL_SUBJECTS: readonly Subject[] = Object.values(Subjects);

/** A ticket as the tickets service publishes it. */
export interface TicketPayload {
  id: string;
  version: number;
  title: string;
  price: number;
  userId: string;
}

/** An order as `order:created` and `order:updated` carry it. */
export interface OrderPayload {
  id: string;
  version: number;
  status: string;
  userId: string;
  expiresAt: string;
  ticket: { id: string; price: number };
}

export interface EventPayloads {
  [Subjects.TicketCreated]: TicketPayload;
  [Subjects.TicketUpdated]: TicketPayload & { orderId?: string };
  [Subjects.OrderCreated]: OrderPayload;
  /** The order changed while active (its hold was extended): the shape of `order:created`. */
  [Subjects.OrderUpdated]: OrderPayload;
  /** The order is still active a few minutes before its deadline (ORDER_EXPIRING_REMINDER_SECONDS): a reminder. */
  [Subjects.OrderExpiring]: { id: string; version: number; userId: string; expiresAt: string; ticket: { id: string } };
  [Subjects.OrderCancelled]: { id: string; version: number; ticket: { id: string } };
  [Subjects.ExpirationComplete]: { orderId: string };
  [Subjects.PaymentCreated]: Payment;
  /** A payment the service refused (the order had ended); the payments service refunds it. */
  [Subjects.PaymentRejected]: { id: string; orderId: string; stripeId: string; reason: string };
}

/** An event on its way out, with the id JetStream de-duplicates it by (`Nats-Msg-Id`). */
export interface OutgoingEvent<S extends Subject = Subject> {
  subject: S;
  msgId: string;
  data: EventPayloads[S];
}
