/**
 * Invariant 4: each state change publishes its event once. Every message on the stream against the
 * database: each order has exactly one order:created; a cancelled one exactly one order:cancelled
 * with its final version; an expired one exactly one expiration:complete; in version order; no
 * message id twice; nothing published for an order the database does not have; nothing left
 * unpublished in the outbox (unless a poison message holds it up: invariant 8).
 */
import { Subjects } from '../../src/orders/catalogue';
import type { DbOrder } from './database-reader';
import {
  entityOf,
  groupBy,
  isIncoming,
  outboxFate,
  outboxRow,
  wasSetAside,
  type Anomaly,
  type Evidence,
} from './evidence';
import { isPoisonRow } from './poison';
import type { StreamMessage } from './stream-reader';

const ORDER_EVENTS: readonly string[] = [Subjects.OrderCreated, Subjects.OrderCancelled, Subjects.ExpirationComplete];
const HOLD_EVENTS: readonly string[] = [Subjects.OrderUpdated, Subjects.OrderExpiring];

export function checkEvents(e: Evidence): Anomaly[] {
  const anomalies: Anomaly[] = [];
  const add = (orderId: string | undefined, what: string) => anomalies.push({ invariant: 4, orderId, what });
  const outgoing = e.stream.filter((m) => !isIncoming(m));
  const byOrder = groupBy(
    outgoing.filter((m) => ORDER_EVENTS.includes(m.subject)),
    entityOf,
  );
  const deleted = new Set(e.ledger.deletes.map((d) => d.orderId));
  const seqs = (ms: StreamMessage[]) => ms.map((m) => m.seq).join(', ');

  for (const order of e.db.orders) {
    const events = byOrder.get(order.id) ?? [];
    byOrder.delete(order.id);
    if (order.tombstone) {
      if (events.length > 0)
        add(order.id, `never recorded (tombstone), yet ${events.map((m) => m.subject).join(', ')} published`);
      continue;
    }
    const of = (subject: string) => events.filter((m) => m.subject === subject);
    const exactlyOnce = (subject: string, why: string) => {
      const found = of(subject);
      if (found.length === 0 && !wasSetAside(e, subject, order.id))
        add(
          order.id,
          `${order.status} v${order.version}: ${subject} missing (${why}); ${outboxFate(e, subject, order.id)}`,
        );
      if (found.length > 1) add(order.id, `${subject} published ${found.length} times (stream seq ${seqs(found)})`);
    };
    exactlyOnce(Subjects.OrderCreated, 'every order');
    if (order.status === 'cancelled') {
      exactlyOnce(Subjects.OrderCancelled, 'cancelled');
      const wrong = of(Subjects.OrderCancelled).filter((m) => m.data?.version !== order.version);
      if (wrong.length > 0)
        add(
          order.id,
          `order:cancelled carries version ${wrong.map((m) => String(m.data?.version)).join(', ')}, the database ${order.version}`,
        );
      // Not deleted by its user: it expired, and says so once. A deleted one may have expired first.
      if (!deleted.has(order.id)) exactlyOnce(Subjects.ExpirationComplete, 'cancelled without a DELETE: it expired');
      else if (of(Subjects.ExpirationComplete).length > 1) exactlyOnce(Subjects.ExpirationComplete, '');
      else if (of(Subjects.ExpirationComplete).length === 1 && cancelledBeforeExpiry(e, order))
        add(order.id, 'cancelled by its user before expiresAt, yet expiration:complete published');
    }
    if (order.status === 'complete' && of(Subjects.ExpirationComplete).length > 0)
      add(order.id, 'complete, yet expiration:complete published');
    const versioned = events.filter((m) => typeof m.data?.version === 'number');
    const outOfOrder = versioned.some(
      (m, i) => i > 0 && (m.data!.version as number) < (versioned[i - 1]!.data!.version as number),
    );
    const expiry = of(Subjects.ExpirationComplete)[0];
    const cancel = of(Subjects.OrderCancelled)[0];
    if (outOfOrder || (expiry && cancel && !deleted.has(order.id) && expiry.seq > cancel.seq))
      add(
        order.id,
        `events out of order: ${events.map((m) => `${m.subject} v${String(m.data?.version ?? '-')} (seq ${m.seq})`).join(', ')}`,
      );
  }
  for (const [orderId, events] of byOrder)
    add(orderId, `${events.map((m) => m.subject).join(', ')} published for an order the database does not have`);

  // the orders' events were counted above, extensions and reminders by checkHolds (holds.ts); the
  // others (payment:rejected) are counted here
  const others = outgoing.filter((m) => !ORDER_EVENTS.includes(m.subject) && !HOLD_EVENTS.includes(m.subject));
  for (const [msgId, copies] of groupBy(others, (m) => m.msgId))
    if (copies.length > 1)
      add(entityOf(copies[0]!), `message id ${msgId} on the stream ${copies.length} times (seq ${seqs(copies)})`);
  for (const [key, copies] of groupBy(others, (m) => `${m.subject} ${entityOf(m) ?? '?'}`))
    if (copies.length > 1 && new Set(copies.map((m) => m.msgId)).size > 1)
      add(
        entityOf(copies[0]!),
        `${key} published ${copies.length} times under different message ids (seq ${seqs(copies)})`,
      );

  const unpublished = e.db.outbox.filter((r) => r.publishedAt === undefined && !r.setAside);
  if (unpublished.length > 0 && !isPoisonRow(unpublished[0]!))
    for (const row of unpublished.slice(0, 50))
      add(
        rowEntity(row.data),
        `${row.msgId} still unpublished in the outbox (written ${new Date(row.createdAt).toISOString()})`,
      );
  return anomalies;
}

function rowEntity(data: string): string | undefined {
  const parsed = JSON.parse(data) as { id?: unknown; orderId?: unknown };
  const id = parsed.id ?? parsed.orderId;
  return typeof id === 'string' ? id : undefined;
}

/** The order's cancellation committed before its deadline: its user's DELETE, not an expiry. */
function cancelledBeforeExpiry(e: Evidence, order: DbOrder): boolean {
  const committed = outboxRow(e, Subjects.OrderCancelled, order.id)?.createdAt;
  return committed !== undefined && committed < order.expiresAt;
}
