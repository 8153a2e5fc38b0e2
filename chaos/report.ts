/** What a run prints at its end: orders, faults by kind, anomalies by invariant (with examples), the seed, and the last line. */
import type { Verdict } from './check/check';
import type { Anomaly, Invariant } from './check/evidence';
import type { ChaosOptions } from './options';

const TITLES: Record<Invariant, string> = {
  1: 'every active order has a running workflow; no ticket held past expiresAt + grace',
  2: 'an order ends once and never changes after',
  3: 'at most one active order per ticket',
  4: 'each state change publishes its event once, in version order',
  5: 'a payment that does not complete its order is refused with payment:rejected',
  6: "no user reads or changes another user's order",
  7: 'a payment published before expiresAt completes the order',
  8: 'a poison message never holds up other messages',
  tickets: 'the ticket copy ends at the last version published (early updates come again)',
  idempotency: 'one Idempotency-Key, one order, however its tries end',
  holds:
    'no order expired before its expiresAt; order:updated once per extension, before the deadline it moved; order:expiring once per deadline, before it',
  crash: 'no process exits by itself',
};
const EXAMPLES = 6;

const tally = (keys: string[]) =>
  Object.entries(keys.reduce<Record<string, number>>((t, k) => ({ ...t, [k]: (t[k] ?? 0) + 1 }), {}))
    .map(([k, n]) => `${k} ${n}`)
    .join(', ') || 'none';

/** Prints the report and returns its last line's figures. */
export function report(options: ChaosOptions, { anomalies, evidence }: Verdict): { orders: number } {
  const { db, ledger, stream } = evidence;
  const orders = db.orders.filter((o) => !o.tombstone);
  const print = (line = '') => console.log(line);
  print();
  print(
    `== chaos: seed ${options.seed}, ${options.db}, ${options.replicas} API(s) and worker(s), ${options.minutes} min of workload, ${options.windowSeconds} s window ==`,
  );
  print(
    `orders: ${orders.length} in the database (${ledger.posts.created} answered 201, ${ledger.posts.replayed} of them replayed for a retried Idempotency-Key, ${ledger.posts.recovered} found after a lost answer); ` +
      `by status: ${tally(orders.map((o) => o.status))}; tombstones ${db.orders.length - orders.length}`,
  );
  print(
    `POSTs: ${ledger.posts.tried} tried, ${ledger.posts.reserved} refused as reserved, ${ledger.posts.unknownTicket} unknown ticket, ${ledger.posts.gaveUp} given up`,
  );
  print(
    `answers: ${Object.entries(ledger.answers)
      .sort()
      .map(([k, n]) => `${k}: ${n}`)
      .join(', ')}`,
  );
  const onStream = new Set(stream.filter((m) => m.subject === 'payment:created').map((m) => String(m.data?.id)));
  const lost = ledger.payments.filter((p) => !onStream.has(p.paymentId)).length;
  print(
    `payments: ${ledger.payments.length} published (${tally(ledger.payments.map((p) => p.kind))}); ${lost} never reached the stream; DELETEs ${ledger.deletes.length}; tries at other users' orders ${ledger.intrusions.length}; poison messages ${ledger.poison.length} (${tally(ledger.poison.map((p) => p.what))})`,
  );
  const reminders = stream.filter((m) => m.subject === 'order:expiring').length;
  print(
    `holds: ${ledger.extensions.length} extensions asked (${ledger.extensions.filter((x) => x.keyed).length} with an Idempotency-Key; answered ${tally(ledger.extensions.map((x) => String(x.status)))}); ${reminders} order:expiring published`,
  );
  const setAside = db.outbox.filter((r) => r.setAside);
  print(
    `stream: ${stream.length} messages; outbox rows set aside (NATS refused them for good): ${setAside.length} (${tally(setAside.map((r) => r.subject))})`,
  );
  print(`faults (${ledger.faults.length}): ${tally(ledger.faults.map((f) => f.kind))}`);
  const startUps = evidence.crashes.filter((c) => c.atStartUp).length;
  print(
    `processes that exited by themselves: ${evidence.crashes.length} (${startUps} during a start-up; those during a fault are retried, as a supervisor would, and not counted)`,
  );
  print(`anomalies (${anomalies.length}):${anomalies.length ? '' : ' none'}`);
  for (const [invariant, title] of Object.entries(TITLES)) {
    const found = anomalies.filter((a) => String(a.invariant) === invariant);
    print(`  ${invariant}. ${title}: ${found.length}`);
    for (const a of found.slice(0, EXAMPLES)) print(`      - ${describe(a)}`);
    if (found.length > EXAMPLES) print(`      … and ${found.length - EXAMPLES} more (anomalies.json)`);
  }
  print(
    `replay: npm run chaos -- --seed ${options.seed} --minutes ${options.minutes} --db ${options.db} --window ${options.windowSeconds}${options.replicas > 1 ? ` --replicas ${options.replicas}` : ''}`,
  );
  return { orders: orders.length };
}

const describe = (a: Anomaly) => (a.orderId ? `order ${a.orderId}: ${a.what}` : a.what);
