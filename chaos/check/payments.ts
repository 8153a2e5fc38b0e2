/**
 * Invariants 5 and 7, judged by when each payment reached the stream (its timestamp there, which the
 * service can read too), not by when a consumer got to it:
 * - 7: a payment published before expiresAt, while nothing else had ended the order, completes it,
 *   unless another payment published in time completed it (one order takes one payment, in whichever
 *   order the consumer decided them; the other is refused and refunded);
 * - 5: a payment that did not complete its order (late, second, after a DELETE, unknown order) is
 *   refused with payment:rejected; none published after expiresAt is accepted.
 * Poison messages are judged by invariant 8 alone.
 */
import { Subjects } from '../../src/orders/catalogue';
import {
  faultsBetween,
  groupBy,
  isPoison,
  iso,
  outboxFate,
  outboxRow,
  seconds,
  wasSetAside,
  type Anomaly,
  type Evidence,
} from './evidence';

export function checkPayments(e: Evidence): Anomaly[] {
  const anomalies: Anomaly[] = [];
  const payments = groupBy(
    e.stream.filter((m) => m.subject === Subjects.PaymentCreated && !isPoison(m)),
    (m) => String(m.data!.id),
  );
  const rejected = new Set(
    e.stream.filter((m) => m.subject === Subjects.PaymentRejected).map((m) => String(m.data?.id)),
  );
  const orders = new Map(e.db.orders.map((o) => [o.id, o]));
  const kinds = new Map(e.ledger.payments.map((p) => [p.paymentId, p.kind]));
  const firstSeen = (paymentId: string | null) => payments.get(paymentId ?? '')?.[0]?.at;

  for (const [paymentId, copies] of payments) {
    const { at: publishedAt, seq } = copies[0]!;
    const orderId = String(copies[0]!.data!.orderId);
    const order = orders.get(orderId);
    const wasRejected = rejected.has(paymentId) || wasSetAside(e, Subjects.PaymentRejected, paymentId);
    const label = `payment ${paymentId} (${kinds.get(paymentId) ?? 'not from the workload'}, stream seq ${seq}, published ${iso(publishedAt)})`;
    const add = (invariant: 5 | 7, what: string) => anomalies.push({ invariant, orderId, what: `${label}: ${what}` });
    if (!order || order.tombstone) {
      if (!wasRejected)
        add(5, `names an unknown order; no payment:rejected (${outboxFate(e, Subjects.PaymentRejected, paymentId)})`);
      continue;
    }
    // In milliseconds, the precision of expiresAt, as the service judges it (payments-consumer.ts): a
    // payment stamped within the deadline's own millisecond is published at expiresAt, in time.
    const lead = order.expiresAt - Math.floor(publishedAt);
    const inTime = lead >= 0;
    const when = inTime ? `${seconds(lead)} before expiresAt` : `${seconds(-lead)} after expiresAt`;
    if (order.paymentId === paymentId) {
      if (!inTime)
        add(
          5,
          `accepted although published ${when} (${iso(order.expiresAt)}); during it: ${faultsBetween(e, order.expiresAt, publishedAt)}`,
        );
      if (wasRejected) add(5, 'both accepted (completed the order) and refused with payment:rejected');
      continue;
    }
    const otherPaymentAt = order.status === 'complete' ? firstSeen(order.paymentId) : undefined;
    const cancelledAt =
      order.status === 'cancelled' ? outboxRow(e, Subjects.OrderCancelled, order.id)?.createdAt : undefined;
    const endedBefore =
      (otherPaymentAt !== undefined && (otherPaymentAt <= publishedAt || otherPaymentAt <= order.expiresAt)) ||
      (cancelledAt !== undefined && cancelledAt <= publishedAt);
    if (inTime && !endedBefore)
      add(
        7,
        `published ${when} while the order was active, yet the order is ${order.status} v${order.version}` +
          `${cancelledAt ? ` (cancelled at ${iso(cancelledAt)})` : ''}` +
          `${otherPaymentAt ? ` (completed by the later payment ${order.paymentId}, published ${iso(otherPaymentAt)})` : ''}${wasRejected ? '; the payment was refused with payment:rejected' : ''}` +
          `; faults between the payment and the order's end: ${faultsBetween(e, publishedAt, cancelledAt ?? order.expiresAt)}`,
      );
    if (!wasRejected && order.status !== 'created')
      add(
        5,
        `did not complete the order (${order.status}, published ${when}) and no payment:rejected is on the stream (${outboxFate(e, Subjects.PaymentRejected, paymentId)})`,
      );
  }
  return anomalies;
}
