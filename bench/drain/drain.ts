/**
 * The drain (issue 12, part 1): N orders due together against N bare timer-plus-activity workflows
 * due together, in the same run on the same dev server, one after the other.
 *
 * The API sets each order's expiresAt to its creation time plus the window, so orders created as
 * fast as the API takes them fall due over the seconds their creation took; the API cannot give N
 * orders one shared expiresAt, and the bench leaves the service as it is. So the bare workflows get
 * the same deadlines shifted to their own start: the same spread, the same burst. Lateness is from
 * each one's own deadline; the drain is from the first deadline to the last message on NATS.
 */
import type { Resources } from '../../scripts/lib/resources';
import { awaitArrivals, type Lateness } from '../arrivals';
import { config, log } from '../config';
import { outboxSplit } from '../expiry';
import { expiryInTemporal, type TemporalSteps } from '../expiry-history';
import { runConcurrently, type Spread } from '../load';
import { awaitQuiet } from '../quiet';
import { restClient } from '../rest';
import { startApi, type Stack } from '../stack';
import { bareWorkflowId, receiveBareFired, startBare } from './bare';

export interface DrainSide extends Lateness {
  temporal: TemporalSteps;
  /** CPU seconds of each process from the first deadline to the last message. */
  cpuSeconds: Record<string, number>;
}

export interface Drain {
  orders: number;
  /** From the first deadline to the last (the orders' creation time, mirrored by the bare ones). */
  deadlineSpreadSeconds: number;
  project: DrainSide & { committed: Spread; relayed: Spread };
  bare: DrainSide;
  /** Project drain / bare drain. */
  ratio: number;
}

export async function measureDrain(
  resources: Resources,
  stack: Stack,
  tickets: string[],
  cancelled: Map<string, number>,
): Promise<Drain> {
  // Its own API, with a window that outlasts the creation of N orders (150 to 200/s here)
  const windowSeconds = Math.max(config.windowSeconds, Math.ceil(tickets.length / 130) + 10);
  const api = await startApi(resources, stack, windowSeconds);
  const post = restClient(resources, api.port);
  const fired = receiveBareFired(stack.nc);

  await awaitQuiet(stack, 'drain, orders');
  const due = new Map<string, number>();
  const creationBegan = Date.now();
  await runConcurrently(tickets.length, config.concurrency, async (i) => {
    const res = await post(tickets[i]!);
    if (res.status !== 201) return;
    const order = JSON.parse(res.body) as { id: string; expiresAt: string };
    due.set(order.id, Date.parse(order.expiresAt));
  });
  const first = Math.min(...due.values());
  const spreadSeconds = (Math.max(...due.values()) - first) / 1000;
  log(
    `drain: ${due.size} orders due over ${spreadSeconds.toFixed(1)} s, the first in ${((first - Date.now()) / 1000).toFixed(0)} s`,
  );
  const project = await drainSide(stack, 'orders', due, cancelled);
  await api.stop();
  const split = outboxSplit(stack.dir, due);

  await awaitQuiet(stack, 'drain, bare');
  // The same deadlines, shifted by the time since the orders' creation began: each bare workflow's
  // deadline is as far from the start of the bare starts (faster than REST creation) as its order's was.
  const shift = Date.now() - creationBegan;
  const bareDue = new Map([...due].map(([id, at]) => [id, at + shift]));
  const base = first + shift;
  await startBare(stack, bareDue);
  log(`drain: ${bareDue.size} bare workflows started, the first due in ${((base - Date.now()) / 1000).toFixed(0)} s`);
  const bare = await drainSide(stack, 'bare', bareDue, fired, bareWorkflowId);
  return {
    orders: due.size,
    deadlineSpreadSeconds: spreadSeconds,
    project: { ...project, ...split },
    bare,
    ratio: project.drainSeconds / bare.drainSeconds,
  };
}

/** Waits for every message, with the CPU each process used from the first deadline on, then reads a sample of histories. */
async function drainSide(
  stack: Stack,
  label: string,
  due: Map<string, number>,
  arrived: Map<string, number>,
  workflowId?: (id: string) => string,
): Promise<DrainSide> {
  let atDue: Record<string, number> | undefined;
  const timer = setTimeout(() => (atDue = stack.cpuSnapshot()), Math.max(0, Math.min(...due.values()) - Date.now()));
  const lateness = await awaitArrivals(label, due, arrived);
  clearTimeout(timer);
  const after = stack.cpuSnapshot();
  const before = atDue ?? after;
  const cpuSeconds = Object.fromEntries(Object.keys(after).map((k) => [k, after[k]! - before[k]!]));
  const temporal = await expiryInTemporal(stack.client, [...due], workflowId);
  log(
    `drain, ${label}: p99 ${(lateness.lateness.p99Ms / 1000).toFixed(1)} s, drained in ${lateness.drainSeconds.toFixed(1)} s`,
  );
  return { ...lateness, temporal, cpuSeconds };
}
