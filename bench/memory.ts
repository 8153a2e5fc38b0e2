/**
 * Memory at scale (issue 12, part 4): worker and API resident memory once 1,000, 10,000 and 20,000
 * orders are waiting (orders made by this part, on the stack's API, whose window outlasts the run), and the
 * growth per 1,000, at the worker's configured sticky cache size.
 */
import { config, log } from './config';
import { runConcurrently } from './load';
import { rssMb } from './processes';
import { awaitQuiet } from './quiet';
import type { PostOrder } from './rest';
import type { Stack } from './stack';

export interface MemoryPoint {
  /** Orders this part created, all waiting. */
  waiting: number;
  /** Running order workflows on the server (with the earlier parts' far-future ones), NaN if unknown. */
  runningWorkflows: number;
  workerMb: number;
  apiMb: number;
}

export interface MemoryScale {
  cacheSize: number;
  points: MemoryPoint[];
  workerMbPer1000: number;
  apiMbPer1000: number;
}

export const memoryTickets = (): number => Math.max(...config.memoryLevels);

/** On the stack's API, whose window outlasts the run: every order made here waits. */
export async function measureMemory(stack: Stack, post: PostOrder, tickets: string[]): Promise<MemoryScale> {
  const points: MemoryPoint[] = [];
  let created = 0;
  for (const level of config.memoryLevels) {
    const from = created;
    await runConcurrently(level - from, config.concurrency, async (i) => {
      await post(tickets[from + i]!);
    });
    created = level;
    // Read once the servers are quiet: the worker's last tasks done, its heap collected, the relay idle
    await awaitQuiet(stack, `memory, ${level} waiting`);
    const point = {
      waiting: level,
      runningWorkflows: await running(stack),
      workerMb: rssMb(stack.worker.pid),
      apiMb: rssMb(stack.api.pid),
    };
    log(
      `memory: ${level} waiting (${point.runningWorkflows} running order workflows): worker ${point.workerMb.toFixed(0)} MB, API ${point.apiMb.toFixed(0)} MB`,
    );
    points.push(point);
  }
  const [a, b] = [points[0]!, points[points.length - 1]!];
  const per1000 = (mb: (p: MemoryPoint) => number) => ((mb(b) - mb(a)) * 1000) / (b.waiting - a.waiting);
  return {
    cacheSize: config.maxCachedWorkflows,
    points,
    workerMbPer1000: per1000((p) => p.workerMb),
    apiMbPer1000: per1000((p) => p.apiMb),
  };
}

async function running(stack: Stack): Promise<number> {
  try {
    const { count } = await stack.client.workflow.count(`ExecutionStatus = "Running" AND TaskQueue = "orders"`);
    return count;
  } catch {
    return NaN;
  }
}
