/**
 * Invariant 6: one user never reads or changes another user's order. The workload's tries (another
 * user's order with one's own session, forged and unsigned tokens) must all have failed, no list may
 * hold another user's order, and each order belongs to the user whose POST created it.
 */
import { iso, type Anomaly, type Evidence } from './evidence';

export function checkIsolation(e: Evidence): Anomaly[] {
  const anomalies: Anomaly[] = [];
  for (const t of e.ledger.intrusions) {
    if (t.how === 'list') {
      anomalies.push({
        invariant: 6,
        orderId: t.leaked?.[0],
        what: `user ${t.by}'s GET /api/orders at ${iso(t.at)} listed other users' orders: ${t.leaked?.join(', ')}`,
      });
    } else if (t.status >= 200 && t.status < 300) {
      anomalies.push({
        invariant: 6,
        orderId: t.orderId,
        what: `${t.how} by user ${t.by} of user ${t.owner}'s order answered ${t.status} at ${iso(t.at)}`,
      });
    }
  }
  const owners = new Map(e.db.orders.map((o) => [o.id, o.userId]));
  for (const placed of e.ledger.placed.values()) {
    const owner = owners.get(placed.orderId);
    if (owner !== undefined && owner !== placed.userId)
      anomalies.push({
        invariant: 6,
        orderId: placed.orderId,
        what: `POSTed by user ${placed.userId}, the database says user ${owner}`,
      });
  }
  return anomalies;
}
