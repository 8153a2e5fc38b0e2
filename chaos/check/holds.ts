/**
 * A hold's extensions and reminders, and the moment of each expiry, judged like the other events:
 * - no order expired before its expiresAt (its last one, after any extension): its
 *   expiration:complete was decided at or after it;
 * - order:updated once per extension the database counts, with versions one after another, each
 *   decided before the deadline it moved (an extension after expiresAt is refused);
 * - order:expiring at most once per deadline, decided before that deadline, and never after the
 *   order's end.
 */
import { Subjects } from '../../src/orders/catalogue';
import { groupBy, iso, outboxRow, type Anomaly, type Evidence } from './evidence';
import type { StreamMessage } from './stream-reader';

/** The outbox row's time is taken a moment after the decision, in the same transaction. */
const ROW_AFTER_DECISION_MS = 50;

export function checkHolds(e: Evidence): Anomaly[] {
  const anomalies: Anomaly[] = [];
  const add = (orderId: string, what: string) => anomalies.push({ invariant: 'holds', orderId, what });
  const of = (subject: string) =>
    groupBy(
      e.stream.filter((m) => m.subject === subject),
      (m) =>
        typeof m.data?.id === 'string' ? m.data.id : typeof m.data?.orderId === 'string' ? m.data.orderId : undefined,
    );
  const created = of(Subjects.OrderCreated);
  const updates = of(Subjects.OrderUpdated);
  const reminders = of(Subjects.OrderExpiring);
  const expiries = of(Subjects.ExpirationComplete);
  // When the change that caused it committed: its outbox row (the stream may have it later, after an outage).
  const decidedAt = (m: StreamMessage) =>
    m.msgId === undefined ? undefined : outboxRow(e, m.subject, m.msgId.slice(m.subject.length + 1))?.createdAt;

  for (const order of e.db.orders.filter((o) => !o.tombstone)) {
    const expiry = expiries.get(order.id)?.[0];
    const expiredAt = expiry && decidedAt(expiry);
    if (expiredAt !== undefined && expiredAt < order.expiresAt)
      add(order.id, `expired at ${iso(expiredAt)}, before its expiresAt ${iso(order.expiresAt)}`);

    const updated = updates.get(order.id) ?? [];
    const versions = updated.map((m) => Number(m.data?.version));
    // An extension's event that NATS refused for good is set aside (an outcome): it counts, unpublished.
    const setAside = e.db.outbox.filter(
      (r) => r.setAside && r.msgId.startsWith(`${Subjects.OrderUpdated}:${order.id}:`),
    );
    if (updated.length + setAside.length !== order.extensions)
      add(
        order.id,
        `${updated.length} order:updated (and ${setAside.length} set aside) for ${order.extensions} extensions in the database`,
      );
    if (setAside.length === 0 && versions.some((v, i) => i > 0 && v !== versions[i - 1]! + 1))
      add(order.id, `order:updated versions ${versions.join(', ')}: not one after another`);
    // Each extension was decided before the deadline it moved: the one order:created or the update before set.
    const deadlines = [created.get(order.id)?.[0], ...updated].map((m) => String(m?.data?.expiresAt));
    updated.forEach((m, i) => {
      const at = decidedAt(m);
      if (at !== undefined && at - ROW_AFTER_DECISION_MS >= Date.parse(deadlines[i]!))
        add(order.id, `extended at ${iso(at)}, after the deadline it moved (${deadlines[i]})`);
    });

    const ended = endedAt(e, order.id);
    for (const [deadline, copies] of groupBy(reminders.get(order.id) ?? [], (m) => String(m.data?.expiresAt))) {
      if (copies.length > 1) add(order.id, `order:expiring for ${deadline} published ${copies.length} times`);
      const at = decidedAt(copies[0]!);
      if (at === undefined) continue;
      if (at - ROW_AFTER_DECISION_MS >= Date.parse(deadline))
        add(order.id, `order:expiring decided at ${iso(at)}, not before its deadline ${deadline}`);
      if (ended !== undefined && at > ended)
        add(order.id, `order:expiring decided at ${iso(at)}, after the order ended (${iso(ended)})`);
    }
  }
  return anomalies;
}

/** When the order's end committed, where the outbox says so: its order:cancelled (a completion writes no event). */
function endedAt(e: Evidence, orderId: string): number | undefined {
  return outboxRow(e, Subjects.OrderCancelled, orderId)?.createdAt;
}
