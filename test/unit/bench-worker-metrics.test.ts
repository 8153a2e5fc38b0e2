/**
 * The bench's reading of the worker's SDK metrics (bench/worker-metrics.ts): each series summed over
 * its labels, and only the series it names (a histogram's buckets are not its count).
 */
import { cacheCountsOf, countsSince } from '../../bench/worker-metrics';

const labels = (workflowType: string) =>
  `{namespace="default",service_name="temporal-core-sdk",task_queue="orders",workflow_type="${workflowType}"}`;

const exposition = [
  '# HELP temporal_workflow_task_replay_latency Histogram of the time taken to replay a workflow task',
  '# TYPE temporal_workflow_task_replay_latency histogram',
  `temporal_workflow_task_replay_latency_bucket${labels('orderWorkflow').slice(0, -1)},le="0.001"} 120`,
  `temporal_workflow_task_replay_latency_sum${labels('orderWorkflow')} 0.75`,
  `temporal_workflow_task_replay_latency_count${labels('orderWorkflow')} 300`,
  `temporal_workflow_task_replay_latency_sum${labels('other')} 0.25`,
  `temporal_workflow_task_replay_latency_count${labels('other')} 20`,
  `temporal_sticky_cache_hit_total${labels('orderWorkflow')} 180`,
  `temporal_sticky_cache_miss_total${labels('orderWorkflow')} 7`,
  `temporal_sticky_cache_size{namespace="default"} 50`,
].join('\n');

test('when the worker exposes its metrics, then replays, their time and the sticky cache hits and misses are summed over labels', () => {
  expect(cacheCountsOf(exposition)).toEqual({ replays: 320, replaySeconds: 1, stickyHits: 180, stickyMisses: 7 });
});

test('when a series has not been counted yet, then it reads 0; and a difference is taken series by series', () => {
  const before = cacheCountsOf('# nothing counted yet\n');
  expect(before).toEqual({ replays: 0, replaySeconds: 0, stickyHits: 0, stickyMisses: 0 });
  expect(countsSince(before, cacheCountsOf(exposition)).replays).toBe(320);
});
