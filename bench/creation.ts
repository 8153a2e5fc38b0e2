/**
 * Parts 1 to 3 of the bench (run.ts): bare starts of the order workflow against REST order
 * creation, twice (cores shared evenly, then the Temporal server first for CPU), and the server's
 * ceiling; and, from the API's /metrics, where a REST order's time goes.
 */
import { temporalOrderWorkflows } from '../src/temporal/order-workflows';
import { ORDER_WORKFLOW_TYPE } from '../src/workflows/shared';
import { config, log } from './config';
import { Phase, type Rate } from './load';
import { renice } from './processes';
import type { PostOrder } from './rest';
import type { Stack } from './stack';

/** N bare starts against N REST orders. */
export interface Comparison {
  bare: Rate;
  rest: Rate;
}

export interface Creation {
  /** The 2 cores shared evenly by every process. */
  shared: Comparison;
  /** The API and worker at nice 10: the Temporal server first in line for CPU. */
  serverFirst: Comparison;
  restFailures: number;
  /** Minimal starts that no worker runs: the server's ceiling. */
  raw: Rate;
  /** Means per REST order, as the API measured them. */
  insideApi: { requestMs: number; workflowStartMs: number };
}

/**
 * `tickets` holds 2N for the two measured rounds, then the warm-up's. The API's window outlasts the
 * run (stack.ts): these orders wait, and none of their expiries loads the parts that follow.
 */
export async function measureCreation(stack: Stack, post: PostOrder, tickets: string[]): Promise<Creation> {
  const { orders: N, warmup } = config;
  // 1. bare starts of the order workflow exactly as the API starts it (search attributes, summary),
  //    run by the worker (its first task sets the timer); far-future deadlines, so none expires here
  const farFuture = new Date(Date.now() + 3600_000).toISOString();
  const workflows = temporalOrderWorkflows(stack.client, 'orders');
  const bareStart = async (i: number) => {
    const input = { orderId: `bench-${i}-${Date.now()}`, userId: 'u', ticket: { id: 't', title: 'bench', price: 1 } };
    await workflows.start({ ...input, expiresAt: farFuture });
  };
  // 2. orders through REST
  let restFailures = 0;
  const restOrder = async (i: number) => {
    const res = await post(tickets[i]!);
    if (res.status !== 201) restFailures++;
  };

  const warmUp = new Phase();
  await warmUp.run(warmup, (i) => bareStart(2 * N + i), stack.cpuSnapshot);
  await warmUp.run(warmup, (i) => post(tickets[2 * N + i]!).then(() => undefined), stack.cpuSnapshot);

  /**
   * N orders each way, in the order bare, REST, REST, bare (half each): the Temporal server slows
   * as its database fills, so whichever kind ran first would look faster. `from` picks the tickets.
   */
  const compare = async (from: number): Promise<Comparison> => {
    const half = Math.floor(N / 2);
    const bare = new Phase();
    const rest = new Phase();
    await bare.run(half, (i) => bareStart(from + i), stack.cpuSnapshot);
    await rest.run(half, (i) => restOrder(from + i), stack.cpuSnapshot);
    await rest.run(N - half, (i) => restOrder(from + half + i), stack.cpuSnapshot);
    await bare.run(N - half, (i) => bareStart(from + half + i), stack.cpuSnapshot);
    return { bare: bare.result(), rest: rest.result() };
  };

  const shared = await compare(0);
  // The same again with the Temporal server first in line for the CPU: what the ratio is when the
  // API and worker do not take their CPU out of the server's two cores (their own hosts or cores).
  const service = [stack.api.pid, stack.worker.pid];
  renice(service, 10);
  const serverFirst = await compare(N);
  try {
    renice(service, 0);
  } catch {
    log('(could not restore the API and worker to nice 0 without root: the parts below run at nice 10)');
  }

  // 3. the raw ceiling: minimal starts (no search attributes, no metadata) that no worker runs
  const raw = new Phase();
  await raw.run(
    N,
    (i) =>
      stack.client.workflow
        .start(ORDER_WORKFLOW_TYPE, {
          taskQueue: 'bench-no-worker',
          workflowId: `bench-raw-${i}-${Date.now()}`,
          args: [{}],
        })
        .then(() => undefined),
    stack.cpuSnapshot,
  );

  const insideApi = await apiMeans(stack.apiPort);
  return { shared, serverFirst, restFailures, raw: raw.result(), insideApi };
}

/** Where a REST order's time goes, as the API itself measured it (its /metrics). */
async function apiMeans(apiPort: number): Promise<Creation['insideApi']> {
  const metrics = await (await fetch(`http://127.0.0.1:${apiPort}/metrics`)).text();
  const mean = (name: string, labels = '') => {
    const value = (suffix: string) =>
      Number(
        metrics
          .split('\n')
          .find((line) => line.startsWith(`${name}${suffix}${labels} `))
          ?.split(' ')[1],
      );
    return (value('_sum') / value('_count')) * 1000;
  };
  const post201 = '{method="POST",route="/api/orders",status="201"}';
  return {
    requestMs: mean('orders_http_request_duration_seconds', post201),
    workflowStartMs: mean('orders_workflow_start_duration_seconds'),
  };
}
