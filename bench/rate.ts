/** Open-loop load: tasks offered at a fixed rate, whether or not the earlier ones have finished. */
import { sleep } from './config';
import { spread, type Spread } from './load';

export interface Offered {
  /** Offered a second. */
  rate: number;
  offered: number;
  failed: number;
  /** Finished a second, from the first offer to the last finish. */
  perSecond: number;
  latency: Spread;
}

/** Offers task(0), task(1)... at `rate` a second for `seconds`; a task resolves false when it failed. */
export async function offerAtRate(
  rate: number,
  seconds: number,
  task: (i: number) => Promise<boolean>,
): Promise<Offered> {
  const n = Math.round(rate * seconds);
  const latencies: number[] = [];
  let failed = 0;
  const started = performance.now();
  const inFlight: Array<Promise<void>> = [];
  for (let i = 0; i < n; i++) {
    const wait = started + (i * 1000) / rate - performance.now();
    if (wait > 1) await sleep(wait);
    const t = performance.now();
    inFlight.push(
      task(i).then(
        (ok) => {
          latencies.push(performance.now() - t);
          if (!ok) failed++;
        },
        () => {
          failed++;
        },
      ),
    );
  }
  await Promise.all(inFlight);
  const elapsed = (performance.now() - started) / 1000;
  return { rate, offered: n, failed, perSecond: (n - failed) / elapsed, latency: spread(latencies) };
}
