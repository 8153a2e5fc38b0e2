/**
 * Invariants 1 to 3, from the database, Temporal's visibility and what the owners saw through GET:
 * every active order has a running workflow and none holds its ticket past expiresAt + grace; an
 * order ends once and never changes after; at most one active order per ticket at any time.
 */
import { Subjects } from '../../src/orders/catalogue';
import { groupBy, isActive, iso, outboxRow, seconds, type Anomaly, type Evidence } from './evidence';

const FINAL = ['complete', 'cancelled'];

export async function checkLifecycle(e: Evidence): Promise<Anomaly[]> {
  return [...(await everyActiveOrderEnds(e)), ...endsOnce(e), ...oneActivePerTicket(e)];
}

async function everyActiveOrderEnds(e: Evidence): Promise<Anomaly[]> {
  const anomalies: Anomaly[] = [];
  for (const order of e.db.orders.filter((o) => !o.tombstone && isActive(o))) {
    const overdueBy = e.checkedAt - order.expiresAt;
    const running = e.workflows.statusByOrder.get(order.id) === 'RUNNING';
    if (running && overdueBy < e.graceMs) continue;
    const problems = [
      overdueBy >= e.graceMs
        ? `still ${order.status}, holding ticket ${order.ticketId} ${seconds(overdueBy)} past expiresAt ${iso(order.expiresAt)}`
        : `${order.status}`,
      running ? 'its workflow is running' : `no running workflow: ${await e.workflows.describe(order.id)}`,
    ];
    anomalies.push({
      invariant: 1,
      orderId: order.id,
      what: problems.join('; '),
    });
  }
  return anomalies;
}

function endsOnce(e: Evidence): Anomaly[] {
  const anomalies: Anomaly[] = [];
  const dbById = new Map(e.db.orders.map((o) => [o.id, o]));
  for (const [orderId, seen] of groupBy(e.ledger.observations, (o) => o.orderId)) {
    const sorted = [...seen].sort((a, b) => a.at - b.at);
    const firstEnd = sorted.find((o) => FINAL.includes(o.status));
    if (!firstEnd) continue;
    const db = dbById.get(orderId);
    const later = sorted.filter(
      (o) => o.at > firstEnd.at && (o.status !== firstEnd.status || o.version !== firstEnd.version),
    );
    const now = db && (db.status !== firstEnd.status || db.version !== firstEnd.version) ? [db] : [];
    if (later.length + now.length === 0) continue;
    const changes = [
      ...later.map((o) => `${o.status} v${o.version} at ${iso(o.at)}`),
      ...now.map((o) => `${o.status} v${o.version} in the database now`),
    ];
    anomalies.push({
      invariant: 2,
      orderId,
      what: `seen ${firstEnd.status} v${firstEnd.version} at ${iso(firstEnd.at)}, then ${changes.join(', ')}`,
    });
  }
  const endings = groupBy(
    e.stream.filter((m) => m.subject === Subjects.OrderCancelled || m.subject === Subjects.ExpirationComplete),
    (m) => (m.subject === Subjects.OrderCancelled ? m.data?.id : m.data?.orderId) as string | undefined,
  );
  for (const order of e.db.orders.filter((o) => o.status === 'complete')) {
    const published = (endings.get(order.id) ?? []).map((m) => `${m.subject} (stream seq ${m.seq})`);
    const queued = [Subjects.ExpirationComplete, Subjects.OrderCancelled]
      .filter((subject) => outboxRow(e, subject, order.id) && !published.some((p) => p.startsWith(subject)))
      .map((subject) => `${subject} (in the outbox)`);
    if (published.length + queued.length > 0)
      anomalies.push({
        invariant: 2,
        orderId: order.id,
        what: `complete (payment ${order.paymentId}) in the database, yet ${[...published, ...queued].join(', ')}: it ended twice`,
      });
  }
  for (const [orderId, events] of endings) {
    const versions = new Set(events.filter((m) => m.subject === Subjects.OrderCancelled).map((m) => m.data?.version));
    if (versions.size > 1)
      anomalies.push({
        invariant: 2,
        orderId,
        what: `order:cancelled with versions ${[...versions].join(' and ')}: changed after it ended`,
      });
  }
  return anomalies;
}

function oneActivePerTicket(e: Evidence): Anomaly[] {
  const anomalies: Anomaly[] = [];
  // when each payment first reached the stream (a duplicate comes later)
  const paidAt = new Map(
    e.stream
      .filter((m) => m.subject === Subjects.PaymentCreated)
      .reverse()
      .map((m) => [m.data?.id, m.at]),
  );
  for (const [ticketId, orders] of groupBy(
    e.db.orders.filter((o) => !o.tombstone),
    (o) => o.ticketId,
  )) {
    const active = orders.filter(isActive);
    if (active.length > 1)
      anomalies.push({
        invariant: 3,
        orderId: active[0]!.id,
        what: `ticket ${ticketId} held by ${active.length} active orders: ${active.map((o) => o.id).join(', ')}`,
      });
    const byCreation = [...orders].sort((a, b) => a.createdAt - b.createdAt);
    for (const [i, earlier] of byCreation.entries()) {
      for (const later of byCreation.slice(i + 1)) {
        const recorded = outboxRow(e, Subjects.OrderCreated, later.id)?.createdAt;
        if (recorded === undefined) continue;
        // When the earlier order stopped holding the ticket: its cancellation's commit, or no earlier than its payment.
        const released =
          earlier.status === 'cancelled'
            ? outboxRow(e, Subjects.OrderCancelled, earlier.id)?.createdAt
            : earlier.status === 'complete'
              ? paidAt.get(earlier.paymentId ?? '')
              : undefined;
        if (released !== undefined && released > recorded)
          anomalies.push({
            invariant: 3,
            orderId: later.id,
            what: `ticket ${ticketId}: recorded at ${iso(recorded)} while order ${earlier.id} still held it (${earlier.status} at ${iso(released)})`,
          });
      }
    }
  }
  return anomalies;
}
