/**
 * N bare timer-plus-activity workflows on the bench's own worker and task queue, same server, same
 * sticky cache size as the service's worker: the baseline of the drain (drain.ts).
 */
import { NativeConnection, Worker } from '@temporalio/worker';
import type { NatsConnection } from 'nats';
import type { Resources } from '../../scripts/lib/resources';
import { config, log } from '../config';
import { runConcurrently } from '../load';
import type { Stack } from '../stack';
import type { BareActivities } from './bare-workflow';

export const BARE_TASK_QUEUE = 'bench-bare';
export const BARE_SUBJECT = 'bench:bare-fired';
export const bareWorkflowId = (id: string): string => `bench-bare-${id}`;

/** The bench's worker for the bare workflows; it runs until the run stops it. */
export async function startBareWorker(resources: Resources, stack: Stack): Promise<void> {
  const connection = await NativeConnection.connect({ address: stack.env.TEMPORAL_ADDRESS! });
  resources.add('bare worker connection', () => connection.close());
  const nc: NatsConnection = stack.nc;
  const activities: BareActivities = {
    fire: async (id) => {
      nc.publish(BARE_SUBJECT, id);
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

/** When each bare workflow's message arrived, by id: subscribe before starting them. */
export function receiveBareFired(nc: NatsConnection): Map<string, number> {
  const arrived = new Map<string, number>();
  const sub = nc.subscribe(BARE_SUBJECT);
  void (async () => {
    for await (const m of sub) arrived.set(m.string(), Date.now());
  })();
  return arrived;
}

/** Starts one bare workflow per deadline (id -> deadline), with `config.concurrency` starts in flight. */
export async function startBare(stack: Stack, due: Map<string, number>): Promise<void> {
  const entries = [...due];
  await runConcurrently(entries.length, config.concurrency, async (i) => {
    const [id, at] = entries[i]!;
    await stack.client.workflow.start('bareExpiry', {
      taskQueue: BARE_TASK_QUEUE,
      workflowId: bareWorkflowId(id),
      args: [id, new Date(at).toISOString()],
    });
  });
}
