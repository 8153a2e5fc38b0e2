/**
 * N baseline workflows (bare-workflow.ts: a timer, then a regular or a local activity) on the bench's
 * own worker and task queue, same server, same sticky cache size as the service's worker: the
 * baselines of the drain (drain.ts).
 */
import { Context } from '@temporalio/activity';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { NatsConnection } from 'nats';
import type { Resources } from '../../scripts/lib/resources';
import { config, log } from '../config';
import { runConcurrently } from '../load';
import type { Stack } from '../stack';
import type { BareActivities } from './bare-workflow';

export const BARE_TASK_QUEUE = 'bench-bare';
export const BARE_SUBJECT = 'bench:bare-fired';
/** The two baselines, by their workflow type. */
export type Baseline = 'bareExpiry' | 'minimalExpiry';
export const baselineWorkflowId =
  (baseline: Baseline) =>
  (id: string): string =>
    `bench-${baseline}-${id}`;

/** The bench's worker for the bare workflows; it runs until the run stops it. */
export async function startBareWorker(resources: Resources, stack: Stack): Promise<void> {
  const connection = await NativeConnection.connect({ address: stack.env.TEMPORAL_ADDRESS! });
  resources.add('bare worker connection', () => connection.close());
  const nc: NatsConnection = stack.nc;
  const activities: BareActivities = {
    // Named by the baseline that fired, so that each drain counts only its own
    fire: async (id) => {
      nc.publish(`${BARE_SUBJECT}.${Context.current().info.workflowType}`, id);
    },
  };
  const worker = await Worker.create({
    connection,
    taskQueue: BARE_TASK_QUEUE,
    workflowsPath: require.resolve('./bare-workflow'),
    activities,
    maxCachedWorkflows: config.maxCachedWorkflows,
  });
  const running = worker.run();
  resources.add('bare worker', async () => {
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await running.catch(() => undefined);
  });
  log(`bare worker on task queue ${BARE_TASK_QUEUE} (cache ${config.maxCachedWorkflows})`);
}

/** When each workflow of `baseline` fired, by id: subscribe before starting them. */
export function receiveFired(nc: NatsConnection, baseline: Baseline): Map<string, number> {
  const arrived = new Map<string, number>();
  const sub = nc.subscribe(`${BARE_SUBJECT}.${baseline}`);
  void (async () => {
    for await (const m of sub) arrived.set(m.string(), Date.now());
  })();
  return arrived;
}

/** Starts one baseline workflow per deadline (id -> deadline), with `config.concurrency` starts in flight. */
export async function startBaseline(stack: Stack, baseline: Baseline, due: Map<string, number>): Promise<void> {
  const entries = [...due];
  await runConcurrently(entries.length, config.concurrency, async (i) => {
    const [id, at] = entries[i]!;
    await stack.client.workflow.start(baseline, {
      taskQueue: BARE_TASK_QUEUE,
      workflowId: baselineWorkflowId(baseline)(id),
      args: [id, new Date(at).toISOString()],
    });
  });
}
