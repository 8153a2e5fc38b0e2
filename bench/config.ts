import { DEFAULT_MAX_CACHED_WORKFLOWS } from '../src/config';

/**
 * The bench's settings, read once from the environment (docs/performance.md), and the log line
 * every part of it prints with. `BENCH_QUICK=1` runs every part at a small scale (CI: under 3 minutes).
 */
const quick = process.env.BENCH_QUICK === '1';
const num = (name: string, full: number, small: number): number => Number(process.env[name] ?? (quick ? small : full));

function sizes(name: string, full: string, small: string): number[] {
  const list = (process.env[name] ?? (quick ? small : full)).split(',').map(Number);
  if (!list.every((n) => Number.isInteger(n) && n > 0)) throw new Error(`${name}: a comma list of positive integers`);
  return list;
}

/** The parts a run measures (BENCH_PARTS, a comma list; all by default), in the order they run. */
export const PARTS = ['creation', 'rates', 'drain', 'memory', 'steady'] as const;
export type Part = (typeof PARTS)[number];

function parts(): Part[] {
  const asked = (process.env.BENCH_PARTS ?? PARTS.join(',')).split(',').map((p) => p.trim());
  const unknown = asked.filter((p) => !(PARTS as readonly string[]).includes(p));
  if (unknown.length) throw new Error(`BENCH_PARTS: unknown ${unknown.join(', ')} (known: ${PARTS.join(', ')})`);
  return PARTS.filter((p) => asked.includes(p));
}

export const config = {
  parts: parts(),
  quick,
  /** Orders each way per round (bare starts and REST orders). */
  orders: num('BENCH_ORDERS', 1000, 100),
  /** Tasks in flight at once. */
  concurrency: num('BENCH_CONCURRENCY', 64, 64),
  /** The drain's shortest window: the least time between an order's creation and its deadline. */
  windowSeconds: num('BENCH_WINDOW_SECONDS', 30, 10),
  /** Unmeasured orders and starts first, so that JIT compilation and caches are warm in every process. */
  warmup: num('BENCH_WARMUP', 200, 50),
  /** Creation at fixed offered rates (orders/s), each for this long. */
  rates: [10, 50, 100],
  rateSeconds: num('BENCH_RATE_SECONDS', 10, 3),
  /** The drains: N orders, then N bare timer-plus-activity workflows, due together, for each N (a comma list). */
  drainSizes: sizes('BENCH_DRAIN_ORDERS', '10000', '300'),
  /** Steady state: orders a second, their window, and how long they arrive. */
  steady: {
    rate: num('BENCH_STEADY_RATE', 50, 20),
    windowSeconds: num('BENCH_STEADY_WINDOW', 60, 10),
    seconds: num('BENCH_STEADY_SECONDS', 300, 30),
  },
  /** Memory: worker and API RSS once this many orders (created by that part) are waiting. */
  memoryLevels: sizes('BENCH_MEMORY_LEVELS', '1000,10000,20000', '100,300'),
  /** The peer: BullMQ worker concurrency, and how long before the shared deadline the jobs are added. */
  bullConcurrency: num('BENCH_BULL_CONCURRENCY', 50, 50),
  peerLeadSeconds: num('BENCH_PEER_LEAD_SECONDS', 10, 5),
  /** The worker's sticky cache, as the service reads it (src/config/temporal.ts: TEMPORAL_MAX_CACHED_WORKFLOWS). */
  maxCachedWorkflows: Number(process.env.TEMPORAL_MAX_CACHED_WORKFLOWS ?? DEFAULT_MAX_CACHED_WORKFLOWS),
  /** A folder for V8 CPU profiles of the API and worker (open them in Chrome DevTools). */
  profileDir: process.env.BENCH_CPU_PROF,
  jwtKey: 'bench-key',
};

export const log = (msg: string): void => console.log(`[bench] ${msg}`);

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
