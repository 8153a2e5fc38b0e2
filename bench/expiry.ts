/**
 * Part 4 of the bench (run.ts): how long after expiresAt the REST orders' order:cancelled reach a
 * NATS subscriber, split into the database commit, the outbox relay, and Temporal's steps.
 */
import path from 'node:path';
import SQLite from 'better-sqlite3';
import type { NatsConnection } from 'nats';
import { log, sleep } from './config';
import { expiryInTemporal, type TemporalSteps } from './expiry-history';
import { spread, type Spread } from './load';
import type { Stack } from './stack';

export interface Expiry {
  orders: number;
  /** Orders whose order:cancelled a subscriber received. */
  seen: number;
  /** From expiresAt to order:cancelled at the subscriber. */
  lag: Spread;
  /** expiresAt -> cancelled in the database (Temporal's timer, the worker's task and activity). */
  committed: Spread;
  /** Committed -> published to NATS by the outbox relay. */
  relayed: Spread;
  temporal: TemporalSteps;
}

/** When each order:cancelled arrived, by order id: subscribe before the orders are created. */
export function receiveCancellations(nc: NatsConnection): Map<string, number> {
  const cancelled = new Map<string, number>();
  const sub = nc.subscribe('order:cancelled');
  void (async () => {
    for await (const m of sub) cancelled.set((JSON.parse(m.string()) as { id: string }).id, Date.now());
  })();
  return cancelled;
}

/** Waits for every order in `expiries` (id -> expiresAt) to be cancelled, then splits the lag. */
export async function measureExpiry(
  stack: Stack,
  expiries: Map<string, number>,
  cancelled: Map<string, number>,
): Promise<Expiry> {
  const lastDue = Math.max(...expiries.values());
  log(`waiting for ${expiries.size} expiries (the last is due in ${((lastDue - Date.now()) / 1000).toFixed(0)} s)...`);
  const deadline = lastDue + 180_000;
  let lastReport = 0;
  const seen = () => [...expiries.keys()].filter((id) => cancelled.has(id)).length;
  while (seen() < expiries.size && Date.now() < deadline) {
    if (Date.now() - lastReport > 5000 && Date.now() > lastDue) {
      log(`  ${seen()}/${expiries.size} expired`);
      lastReport = Date.now();
    }
    await sleep(200);
  }
  const lags = [...expiries].filter(([id]) => cancelled.has(id)).map(([id, due]) => cancelled.get(id)! - due);
  return {
    orders: expiries.size,
    seen: lags.length,
    lag: spread(lags),
    ...outboxSplit(stack.dir, expiries),
    temporal: await expiryInTemporal(stack.client, [...expiries]),
  };
}

/** Where the lag is, from the API's outbox: the expiry's commit in the database, then the relay's publish. */
export function outboxSplit(dir: string, expiries: Map<string, number>): Pick<Expiry, 'committed' | 'relayed'> {
  const orders = new SQLite(path.join(dir, 'orders.sqlite'), { readonly: true });
  const rows = orders
    .prepare(`select data, created_at, published_at from outbox where subject = 'order:cancelled'`)
    .all() as Array<{ data: string; created_at: string; published_at: string | null }>;
  orders.close();
  const committed: number[] = [];
  const relayed: number[] = [];
  for (const row of rows) {
    const due = expiries.get((JSON.parse(row.data) as { id: string }).id);
    if (due === undefined || !row.published_at) continue;
    committed.push(Date.parse(row.created_at) - due);
    relayed.push(Date.parse(row.published_at) - Date.parse(row.created_at));
  }
  return { committed: spread(committed), relayed: spread(relayed) };
}
