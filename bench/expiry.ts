/**
 * What the expiry parts (the drains, the steady state, the scale-out runs) read of an expiry outside
 * Temporal: when each order:cancelled reached a NATS subscriber, and, from the API's outbox, the
 * split between the database commit and the relay's publish.
 */
import path from 'node:path';
import SQLite from 'better-sqlite3';
import type { NatsConnection } from 'nats';
import { spread, type Spread } from './load';

export interface OutboxSplit {
  /** expiresAt -> cancelled in the database (Temporal's timer, the worker's task and activity). */
  committed: Spread;
  /** Committed -> published to NATS by the outbox relay. */
  relayed: Spread;
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

/** Where the lag is, from the API's outbox: the expiry's commit in the database, then the relay's publish. */
export function outboxSplit(dir: string, expiries: Map<string, number>): OutboxSplit {
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
