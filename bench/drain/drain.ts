/**
 * The drain (issues 12 and 21): N orders due together, in the two shapes the service runs, against
 * N baseline workflows due together, in the same run on the same dev server, one after the other:
 *   - orders, reminders off (the shape this drain has always timed; `drain.ratio` is over bare);
 *   - orders in the default shape: `order:expiring` fires before each deadline, then the expiry,
 *     with a lead long enough for the burst of reminders to be done before the burst of expiries
 *     (as 120 s of a 15-minute hold is for an order's one reminder); its drain is both bursts';
 *   - bare: a timer, then a regular activity (the naive expiry workflow);
 *   - minimal: a timer, then a local activity (the least work Temporal can do per expiring order).
 *
 * The API sets each order's expiresAt to its creation time plus the window, so orders created as
 * fast as the API takes them fall due over the seconds their creation took; the API cannot give N
 * orders one shared expiresAt, and the bench leaves the service as it is. So the baselines get the
 * first shape's deadlines shifted to their own start: the same spread, the same burst. Lateness is
 * from each one's own deadline; a drain is from the first deadline to the last message on NATS, and
 * it waits for every message (arrivals.ts): a drain that stalls fails the run, it gives no ratio.
 */
import type { NatsConnection } from 'nats';
import type { Resources } from '../../scripts/lib/resources';
import { awaitArrivals, type Lateness } from '../arrivals';
import { config, log } from '../config';
import { outboxSplit } from '../expiry';
import { expiryInTemporal, type TemporalSteps } from '../expiry-history';
import { runConcurrently, type Spread } from '../load';
import { awaitQuiet } from '../quiet';
import { restClient } from '../rest';
import { countsSince, readCacheCounts, type CacheCounts } from '../worker-metrics';
import { startApi, type Stack } from '../stack';
import { baselineWorkflowId, receiveFired, startBaseline, type Baseline } from './bare';

export interface DrainSide extends Lateness {
  temporal: TemporalSteps;
  /** The service's worker, from the end of the side's creation to its last message (orders only; the baselines run the bench's own). */
  cache?: CacheCounts;
  /** CPU seconds of each process from the first deadline to the last message. */
  cpuSeconds: Record<string, number>;
}

export interface Drain {
  orders: number;
  /** From the first deadline to the last (the orders' creation time, mirrored by the baselines). */
  deadlineSpreadSeconds: number;
  /** Orders with reminders off. */
  project: DrainSide & { committed: Spread; relayed: Spread };
  /**
   * Orders in the default shape, and how many of them sent `order:expiring` (all, unless one ended
   * first). Its `drainSeconds` are the expiries'; `reminderDrainSeconds` the reminders', from the
   * first reminder's time to the last `order:expiring`; `totalDrainSeconds` both.
   */
  defaultShape: DrainSide & {
    reminderLeadSeconds: number;
    reminded: number;
    reminderDrainSeconds: number;
    totalDrainSeconds: number;
  };
  bare: DrainSide;
  minimal: DrainSide;
  /** Orders (reminders off) / bare; orders / minimal; the default shape (both its bursts) / bare: drain times. */
  ratio: number;
  minimalRatio: number;
  defaultShapeRatio: number;
  /** Every message of every side arrived, and 99% of the default shape's orders sent their reminder (else no ratio: NaN). */
  complete: boolean;
}

/**
 * The default shape's reminder lead: the reminders of N orders due together are a burst as long as
 * their expiries' (one timer and one step each), so the lead outlasts the orders' drain measured
 * just before, by half again and 30 s. A lead scaled from the hold's (120 s of 900 s: 31 s of a
 * 230 s window) was shorter than that burst: the reminders came after their deadlines, and an
 * order sends none then (63% sent none in the first 10,000-order run), so the shape was not the default one.
 */
export const reminderLeadSeconds = (windowSeconds: number, ordersDrainSeconds: number): number =>
  Math.max(Math.round((windowSeconds * 120) / 900), Math.ceil(ordersDrainSeconds * 1.5) + 30);

export async function measureDrain(
  resources: Resources,
  stack: Stack,
  tickets: string[],
  cancelled: Map<string, number>,
): Promise<Drain> {
  const n = tickets.length / 2;
  // Its own APIs, with a window that outlasts the creation of N orders and their first workflow
  // tasks, which the worker runs behind the POSTs (REST takes 70 to 200 orders/s here): a window that
  // did not, on a slow day, set the reminders' time before the workflows had started, and they sent none.
  const windowSeconds = Math.max(config.windowSeconds, Math.ceil(n / 50) + 30);
  const creationBegan = Date.now();
  const { due, side: project } = await orderSide(resources, stack, 'orders', tickets.slice(0, n), cancelled, {
    windowSeconds,
    reminderSeconds: 0,
  });
  const split = outboxSplit(stack.dir, due);
  const first = Math.min(...due.values());
  const spreadSeconds = (Math.max(...due.values()) - first) / 1000;

  // Its window: as long before the first reminder as the other shape's before its first deadline
  const lead = reminderLeadSeconds(windowSeconds, project.drainSeconds);
  const expiring = receiveReminders(stack.nc);
  const shaped = await orderSide(resources, stack, 'default shape', tickets.slice(n), cancelled, {
    windowSeconds: windowSeconds + lead,
    reminderSeconds: lead,
  });
  const remindedAt = [...shaped.due.keys()].flatMap((id) => expiring.get(id) ?? []);
  const reminded = remindedAt.length;
  const reminderDrainSeconds = (Math.max(...remindedAt) - (Math.min(...shaped.due.values()) - lead * 1000)) / 1000;
  const totalDrainSeconds = reminderDrainSeconds + shaped.side.drainSeconds;
  log(
    `drain, default shape: ${reminded} reminders in ${reminderDrainSeconds.toFixed(1)} s, ${lead} s before each deadline`,
  );

  // The first shape's deadlines, shifted by the time since its creation began: each baseline
  // workflow's deadline is as far from the start of its starts (faster than REST creation) as its order's was.
  const baseline = async (kind: Baseline, label: string): Promise<DrainSide> => {
    await awaitQuiet(stack, `drain, ${label}`);
    const fired = receiveFired(stack.nc, kind);
    const shift = Date.now() - creationBegan;
    const shifted = new Map([...due].map(([id, at]) => [id, at + shift]));
    await startBaseline(stack, kind, shifted);
    log(
      `drain: ${shifted.size} ${label} workflows started, the first due in ${((first + shift - Date.now()) / 1000).toFixed(0)} s`,
    );
    return drainSide(stack, label, shifted, fired, baselineWorkflowId(kind));
  };
  const bare = await baseline('bareExpiry', 'bare');
  const minimal = await baseline('minimalExpiry', 'minimal');

  const sides = [project, shaped.side, bare, minimal];
  // The default shape is what it says only if (nearly) every order sent its reminder first
  const shapeHeld = reminded >= 0.99 * shaped.due.size;
  if (!shapeHeld) log(`drain, default shape: only ${reminded} of ${shaped.due.size} orders sent order:expiring`);
  const complete = shapeHeld && sides.every((s) => s.seen === s.expected);
  const ratio = (seconds: number, b: DrainSide) => (complete ? seconds / b.drainSeconds : NaN);
  return {
    orders: due.size,
    deadlineSpreadSeconds: spreadSeconds,
    project: { ...project, ...split },
    defaultShape: { ...shaped.side, reminderLeadSeconds: lead, reminded, reminderDrainSeconds, totalDrainSeconds },
    bare,
    minimal,
    ratio: ratio(project.drainSeconds, bare),
    minimalRatio: ratio(project.drainSeconds, minimal),
    defaultShapeRatio: ratio(totalDrainSeconds, bare),
    complete,
  };
}

/** N orders through REST on an API of their own with this window and reminder lead, then their drain. */
async function orderSide(
  resources: Resources,
  stack: Stack,
  label: string,
  tickets: string[],
  cancelled: Map<string, number>,
  { windowSeconds, reminderSeconds }: { windowSeconds: number; reminderSeconds: number },
): Promise<{ due: Map<string, number>; side: DrainSide }> {
  const api = await startApi(resources, stack, windowSeconds, {
    ORDER_EXPIRING_REMINDER_SECONDS: String(reminderSeconds),
  });
  const post = restClient(resources, api.port);
  await awaitQuiet(stack, `drain, ${label}`);
  const due = new Map<string, number>();
  await runConcurrently(tickets.length, config.concurrency, async (i) => {
    const res = await post(tickets[i]!);
    if (res.status !== 201) return;
    const order = JSON.parse(res.body) as { id: string; expiresAt: string };
    due.set(order.id, Date.parse(order.expiresAt));
  });
  const first = Math.min(...due.values());
  const spreadSeconds = (Math.max(...due.values()) - first) / 1000;
  const reminder = reminderSeconds > 0 ? `, order:expiring ${reminderSeconds} s before each` : ', reminders off';
  log(
    `drain, ${label}: ${due.size} orders due over ${spreadSeconds.toFixed(1)} s, the first in ${((first - Date.now()) / 1000).toFixed(0)} s${reminder}`,
  );
  const side = await drainSide(stack, label, due, cancelled);
  await api.stop();
  return { due, side };
}

/** Which orders sent `order:expiring` (id -> when it arrived): subscribe before they are created. */
function receiveReminders(nc: NatsConnection): Map<string, number> {
  const reminded = new Map<string, number>();
  const sub = nc.subscribe('order:expiring');
  void (async () => {
    for await (const m of sub) reminded.set((JSON.parse(m.string()) as { id: string }).id, Date.now());
  })();
  return reminded;
}

/** Waits for every message, with the CPU each process used from the first deadline on, then reads a sample of histories. */
async function drainSide(
  stack: Stack,
  label: string,
  due: Map<string, number>,
  arrived: Map<string, number>,
  workflowId?: (id: string) => string,
): Promise<DrainSide> {
  const ours = workflowId === undefined; // an order side: the service's worker runs it
  let atDue: Record<string, number> | undefined;
  const cacheBefore = ours ? await readCacheCounts(stack.workerMetricsPort) : undefined;
  const timer = setTimeout(() => (atDue = stack.cpuSnapshot()), Math.max(0, Math.min(...due.values()) - Date.now()));
  const lateness = await awaitArrivals(label, due, arrived);
  clearTimeout(timer);
  const cache = cacheBefore && countsSince(cacheBefore, await readCacheCounts(stack.workerMetricsPort));
  const after = stack.cpuSnapshot();
  const before = atDue ?? after;
  const cpuSeconds = Object.fromEntries(Object.keys(after).map((k) => [k, after[k]! - before[k]!]));
  const temporal = await expiryInTemporal(stack.client, [...due], workflowId);
  const replays = cache ? `, ${(cache.replays / due.size).toFixed(2)} replays each` : '';
  log(
    `drain, ${label}: p99 ${(lateness.lateness.p99Ms / 1000).toFixed(1)} s, drained in ${lateness.drainSeconds.toFixed(1)} s, ` +
      `${temporal.eventsPerWorkflow.toFixed(1)} events and ${temporal.workflowTasksPerWorkflow.toFixed(1)} workflow tasks each${replays}`,
  );
  return { ...lateness, temporal, cpuSeconds, ...(cache ? { cache } : {}) };
}
