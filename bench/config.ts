/**
 * The bench's settings, read once from the environment (README, "Benchmarks"), and the log line
 * every part of it prints with.
 */
export const config = {
  /** Orders each way per round (bare starts and REST orders). */
  orders: Number(process.env.BENCH_ORDERS ?? 1000),
  /** Tasks in flight at once. */
  concurrency: Number(process.env.BENCH_CONCURRENCY ?? 64),
  /** The orders' expiration window: how long the expiry part waits for them to fall due. */
  windowSeconds: Number(process.env.BENCH_WINDOW_SECONDS ?? 30),
  /** Unmeasured orders and starts first, so that JIT compilation and caches are warm in every process. */
  warmup: Number(process.env.BENCH_WARMUP ?? 200),
  /** A folder for V8 CPU profiles of the API and worker (open them in Chrome DevTools). */
  profileDir: process.env.BENCH_CPU_PROF,
  jwtKey: 'bench-key',
};

export const log = (msg: string): void => console.log(`[bench] ${msg}`);

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
