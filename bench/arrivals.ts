/** Waiting for messages that a bench part expects on NATS, each by a deadline, and how late they came. */
import { log, sleep } from './config';
import { spread, type Spread } from './load';

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
  const ended = Date.now();
  const at = new Map([...due.keys()].map((id) => [id, arrived.get(id) ?? ended]));
  return {
    expected: due.size,
    seen: [...due.keys()].filter((id) => arrived.get(id) !== undefined && arrived.get(id)! <= ended).length,
    lateness: spread([...due].map(([id, deadline]) => at.get(id)! - deadline)),
    drainSeconds: (Math.max(...at.values()) - Math.min(...due.values())) / 1000,
  };
}
