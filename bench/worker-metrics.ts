/**
 * What the sticky cache costs, from the worker's own SDK metrics (its TEMPORAL_METRICS_PORT, the
 * Rust core's Prometheus endpoint): a workflow task for a workflow the cache no longer holds
 * fetches its whole history and replays it. A smaller cache saves memory; these say how many
 * replays that bought.
 */
export interface CacheCounts {
  /** Workflow tasks that replayed a history (the replay latency histogram's count). */
  replays: number;
  /** Replay time, in seconds of the worker's workflow thread. */
  replaySeconds: number;
  stickyHits: number;
  stickyMisses: number;
}

/** Each count's Prometheus series. */
const SERIES: Record<keyof CacheCounts, string> = {
  replays: 'temporal_workflow_task_replay_latency_count',
  replaySeconds: 'temporal_workflow_task_replay_latency_sum',
  stickyHits: 'temporal_sticky_cache_hit_total',
  stickyMisses: 'temporal_sticky_cache_miss_total',
};
const KEYS = Object.keys(SERIES) as Array<keyof CacheCounts>;
const KEY_OF_SERIES = new Map(KEYS.map((k) => [SERIES[k], k]));

const countsFrom = (count: (k: keyof CacheCounts) => number): CacheCounts =>
  Object.fromEntries(KEYS.map((k) => [k, count(k)])) as unknown as CacheCounts;

/** Each series summed over its labels (a name absent from the text is 0: nothing counted yet). */
export function cacheCountsOf(text: string): CacheCounts {
  const sums = countsFrom(() => 0);
  for (const line of text.split('\n')) {
    const key = KEY_OF_SERIES.get(line.split(/[{ ]/, 1)[0]!);
    if (key) sums[key] += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sums;
}

export async function readCacheCounts(metricsPort: number): Promise<CacheCounts> {
  const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
  if (!res.ok) throw new Error(`worker metrics: HTTP ${res.status}`);
  return cacheCountsOf(await res.text());
}

export const countsSince = (before: CacheCounts, after: CacheCounts): CacheCounts =>
  countsFrom((k) => after[k] - before[k]);
