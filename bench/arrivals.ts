/** Waiting for messages that a bench part expects on NATS, each by a deadline, and how late they came. */
import { log, sleep } from './config';
import { percentiles, spread, type Spread } from './load';

export interface Lateness {
  expected: number;
  seen: number;
  /**
   * Deadline -> arrival at the subscriber. A message still missing when the wait ended counts as
   * late as it was then: with any missing, the percentiles and the max are lower bounds.
   */
  lateness: Spread;
  /** From the first deadline to the last arrival (a lower bound, as above, with any missing). */
  drainSeconds: number;
  /** For the chart (chart.ts): the 0th to 100th percentiles of the arrivals (ms after the first deadline) and of the lateness. */
  curves: Curves;
}

export interface Curves {
  doneAtMs: number[];
  latenessMs: number[];
}

/** When a wait gives up: once nothing arrived for `stallMs`, or (if set) `patienceMs` after the last deadline. */
export interface GiveUp {
  stallMs: number;
  patienceMs?: number;
}

/**
 * Waits until every id of `due` (id -> deadline) has arrived (id -> when). By default it gives up
 * only once nothing has arrived for 3 minutes after the last deadline: a slow drain runs to its end,
 * a stuck one is reported (`seen` < `expected`), and the drain's run fails on it (run.ts).
 */
export async function awaitArrivals(
  label: string,
  due: Map<string, number>,
  arrived: Map<string, number>,
  { stallMs, patienceMs = Infinity }: GiveUp = { stallMs: 180_000 },
): Promise<Lateness> {
  const lastDue = Math.max(...due.values());
  const seen = () => [...due.keys()].filter((id) => arrived.has(id)).length;
  let lastReport = 0;
  let progress = { n: 0, at: lastDue };
  for (let n = seen(); n < due.size; n = seen()) {
    if (n > progress.n) progress = { n, at: Math.max(Date.now(), lastDue) };
    if (Date.now() - progress.at > stallMs || Date.now() > lastDue + patienceMs) {
      log(`  ${label}: gave up waiting; ${due.size - n} of ${due.size} missing`);
      break;
    }
    if (Date.now() - lastReport > 10_000 && Date.now() > lastDue) {
      log(`  ${label}: ${n}/${due.size} arrived`);
      lastReport = Date.now();
    }
    await sleep(200);
  }
  const ended = Date.now();
  const at = new Map([...due.keys()].map((id) => [id, arrived.get(id) ?? ended]));
  const first = Math.min(...due.values());
  const lateness = [...due].map(([id, deadline]) => at.get(id)! - deadline);
  return {
    expected: due.size,
    seen: [...due.keys()].filter((id) => arrived.get(id) !== undefined && arrived.get(id)! <= ended).length,
    lateness: spread(lateness),
    drainSeconds: (Math.max(...at.values()) - first) / 1000,
    curves: { doneAtMs: percentiles([...at.values()].map((t) => t - first)), latenessMs: percentiles(lateness) },
  };
}
