import { config } from './config';

/** The p-th percentile of xs (NaN when empty). */
export const pct = (xs: number[], p: number): number =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? NaN;

/** How a set of durations spreads, in milliseconds. */
export interface Spread {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** NaNs (a step that a history did not reach yet) are left out. */
export const spread = (values: number[]): Spread => {
  const xs = values.filter((x) => !Number.isNaN(x));
  return { p50Ms: pct(xs, 50), p99Ms: pct(xs, 99), maxMs: Math.max(...xs) };
};

/** The 0th to the 100th percentile of xs, 101 values (a curve for the chart, chart.ts); empty when xs is. */
export const percentiles = (xs: number[]): number[] => {
  const sorted = [...xs].sort((a, b) => a - b);
  if (sorted.length === 0) return [];
  return Array.from(
    { length: 101 },
    (_, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * (sorted.length - 1)))]!,
  );
};

/** Runs task(0) to task(n - 1) with `concurrency` of them in flight at once. */
export async function runConcurrently(
  n: number,
  concurrency: number,
  task: (i: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) await task(next++);
    }),
  );
}

/** CPU seconds used so far, per process. */
export type CpuSnapshot = () => Record<string, number>;

/** What a Phase measured. */
export interface Rate {
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** CPU milliseconds per task, per process. */
  cpuMsPerTask: Record<string, number>;
}

/**
 * One kind of load, run in one or more parts with `config.concurrency` tasks in flight: its rate,
 * latencies and CPU per task of each process.
 */
export class Phase {
  private tasks = 0;
  private seconds = 0;
  private readonly latencies: number[] = [];
  private readonly cpu: Record<string, number> = {};

  async run(n: number, task: (i: number) => Promise<void>, cpu: CpuSnapshot): Promise<void> {
    const before = cpu();
    const started = performance.now();
    await runConcurrently(n, config.concurrency, async (i) => {
      const t = performance.now();
      await task(i);
      this.latencies.push(performance.now() - t);
    });
    this.seconds += (performance.now() - started) / 1000;
    const after = cpu();
    for (const k of Object.keys(after)) this.cpu[k] = (this.cpu[k] ?? 0) + after[k]! - before[k]!;
    this.tasks += n;
  }

  result(): Rate {
    const cpuMsPerTask = Object.fromEntries(Object.entries(this.cpu).map(([k, v]) => [k, (v * 1000) / this.tasks]));
    const perSecond = this.tasks / this.seconds;
    return { perSecond, p50Ms: pct(this.latencies, 50), p99Ms: pct(this.latencies, 99), cpuMsPerTask };
  }
}
