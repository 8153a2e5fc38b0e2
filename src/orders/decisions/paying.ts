import { paymentRejected } from '../events';
import { isActive, OrderStatus, type DecidedPayment, type OrderRecord, type Payment } from '../order';
import { transition } from '../transitions';
import { unchanged, type Command } from './change';
import { outcomeOf, type Outcome } from './outcome';

export type PaymentResult = Outcome & { accepted: boolean };

/**
 * A payment completes the order while it is active, if it was published before the order's
 * deadline (invariant 7: the deadline is judged by when the payment was published, not by when a
 * consumer got to it). Otherwise it is refused with `payment:rejected` (invariant 5), unless it is
 * the very payment that already completed the order (a redelivery). A payment is decided once,
 * ever: the same one again (a replayed stream) gets its first decision, with no new event.
 * `publishedAt` is unknown when the workflow confirms a payment the database has already decided.
 */
export const pay = (payment: Payment, publishedAt?: string): Command<PaymentResult> => ({
  orderId: payment.orderId,
  paymentId: payment.id,
  decide(current, decided) {
    if (current?.paymentId === payment.id) return unchanged({ accepted: true, ...outcomeOf(current) });
    if (decided) return unchanged({ accepted: decided.accepted, ...outcomeOr(current) });
    const inTime = publishedAt === undefined || !current || Date.parse(publishedAt) <= Date.parse(current.expiresAt);
    if (current && isActive(current.status) && inTime) {
      const update = transition(current, OrderStatus.Complete, { paymentId: payment.id, ending: 'paid' });
      const result = { accepted: true, status: update.status, ending: 'paid' as const, paymentId: payment.id };
      return { result, update, events: [], decidedPayment: decision(payment, true) };
    }
    const reason = !current
      ? `order ${payment.orderId} is unknown`
      : isActive(current.status)
        ? `payment ${payment.id} was published at ${publishedAt}, after order ${current.id}'s hold ended at ${current.expiresAt}`
        : `order ${current.id} is already ${current.status}`;
    return {
      result: { accepted: false, ...outcomeOr(current) },
      events: [paymentRejected(payment, reason)],
      decidedPayment: decision(payment, false),
    };
  },
});

/**
 * A payment that reached the workflow after the order ended: refused, so the payments service
 * refunds it, unless it is the payment that completed the order (the database decided it when it
 * was consumed, before its signal arrived).
 */
export const rejectPayment = (payment: Payment, reason: string): Command<{ rejected: boolean }> => ({
  orderId: payment.orderId,
  paymentId: payment.id,
  decide(current, decided) {
    if (current?.paymentId === payment.id) return unchanged({ rejected: false });
    if (decided) return unchanged({ rejected: !decided.accepted }); // refused once already: no second refund
    return {
      result: { rejected: true },
      events: [paymentRejected(payment, reason)],
      decidedPayment: decision(payment, false),
    };
  },
});

const decision = (payment: Payment, accepted: boolean): DecidedPayment => ({
  paymentId: payment.id,
  orderId: payment.orderId,
  accepted,
});

const outcomeOr = (current: OrderRecord | undefined): Outcome =>
  current ? outcomeOf(current) : { status: OrderStatus.Cancelled };
