/** Waiting for messages that a bench part expects on NATS, each by a deadline, and how late they came. */
import { log, sleep } from './config';
import { spread, type Spread } from './load';

export interface Lateness {
  expected: number;
  seen: number;
  /** Deadline -> arrival at the subscriber. */
  lateness: Spread;
  /** From the first deadline to the last arrival. */
  drainSeconds: number;
}

/** Waits until every id of `due` (id -> deadline) has arrived (id -> when), or `patienceMs` after the last deadline. */
export async function awaitArrivals(
  label: string,
  due: Map<string, number>,
  arrived: Map<string, number>,
  patienceMs = 180_000,
): Promise<Lateness> {
  const lastDue = Math.max(...due.values());
  const giveUp = lastDue + patienceMs;
  const seen = () => [...due.keys()].filter((id) => arrived.has(id)).length;
  let lastReport = 0;
  for (let n = seen(); n < due.size && Date.now() < giveUp; n = seen()) {
    if (Date.now() - lastReport > 10_000 && Date.now() > lastDue) {
      log(`  ${label}: ${n}/${due.size} arrived`);
      lastReport = Date.now();
    }
    await sleep(200);
  }
  const lags = [...due].filter(([id]) => arrived.has(id)).map(([id, at]) => arrived.get(id)! - at);
  const last = Math.max(...[...due.keys()].map((id) => arrived.get(id) ?? NaN).filter((t) => !Number.isNaN(t)));
  return {
    expected: due.size,
    seen: lags.length,
    lateness: spread(lags),
    drainSeconds: (last - Math.min(...due.values())) / 1000,
  };
}
