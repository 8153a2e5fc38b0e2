/**
 * Idempotent creation (issue 10): every try of one POST carries the same Idempotency-Key, through
 * API kills, pauses and database cuts. However its tries ended, the key made one order: every 201
 * it got names the same order, and the database holds no second order that the POST's tries made
 * for its user and ticket.
 */
import type { KeyedAnswer } from '../workload/ledger';
import type { Anomaly, Evidence } from './evidence';

export function checkIdempotency({ ledger, db }: Evidence): Anomaly[] {
  const anomalies: Anomaly[] = [];
  const byKey = new Map<string, KeyedAnswer[]>();
  for (const a of ledger.keyedAnswers) byKey.set(a.key, [...(byKey.get(a.key) ?? []), a]);
  for (const [key, answers] of byKey) {
    const named = new Set(answers.map((a) => a.orderId));
    if (named.size > 1) {
      anomalies.push({
        invariant: 'idempotency',
        what: `key ${key} was answered with orders ${[...named].join(', ')}`,
      });
    }
    const { userId, ticketId } = answers[0]!;
    const from = Math.min(...answers.map((a) => a.sentAt)) - 1000;
    const to = Math.max(...answers.map((a) => a.answeredAt)) + 1000;
    const made = db.orders.filter(
      (o) => !o.tombstone && o.userId === userId && o.ticketId === ticketId && o.createdAt >= from && o.createdAt <= to,
    );
    if (made.length > 1) {
      anomalies.push({
        invariant: 'idempotency',
        orderId: made[0]!.id,
        what: `the tries of key ${key} made ${made.length} orders: ${made.map((o) => o.id).join(', ')}`,
      });
    }
  }
  return anomalies;
}
