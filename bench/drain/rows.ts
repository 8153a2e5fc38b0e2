/** The drain's rows in the run's table (table.ts): each side, the ratios against their targets, and where the time went. */
import type { Lateness } from '../arrivals';
import { config } from '../config';
import type { Spread } from '../load';
import type { Peer } from '../peer/peer';
import type { Drain, DrainSide } from './drain';

export type Row = [string, string, string];

export const s = (ms: number) => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(1)} s` : '-');
export const ms = (x: number) => (Number.isFinite(x) ? `${x.toFixed(0)} ms` : '-');
export const spreadS = (x: Spread) => `p50 ${s(x.p50Ms)}, p99 ${s(x.p99Ms)}, max ${s(x.maxMs)}`;
export const spreadMs = (x: Spread) => `p50 ${ms(x.p50Ms)}, p99 ${ms(x.p99Ms)}, max ${ms(x.maxMs)}`;
export const met = (ok: boolean) => (ok ? 'met' : 'NOT met');
/** Lateness percentiles are lower bounds when messages were still missing (arrivals.ts). */
export const missing = (l: Lateness) =>
  l.seen < l.expected ? ` (${l.expected - l.seen} of ${l.expected} still missing: lower bounds)` : '';
const ratio = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : 'none: a drain did not finish');
const cpu = (c: Record<string, number>) =>
  ['temporal', 'worker', 'api', 'nats', 'bench'].map((k) => (c[k] ?? NaN).toFixed(0)).join('/');

export function drainRows(d: Drain, peer: Peer): Row[] {
  const sides: Array<[string, DrainSide]> = [
    ['orders, reminders off', d.project],
    [`orders, default shape (order:expiring ${d.defaultShape.reminderLeadSeconds} s before)`, d.defaultShape],
    ['bare (timer + activity)', d.bare],
    ['minimal (timer + local activity)', d.minimal],
  ];
  const each = (f: (side: DrainSide) => string) => sides.map(([label, side]) => `${label.split(' (')[0]} ${f(side)}`);
  return [
    ...sides.map(
      ([label, side]): Row => [
        `drain: ${side.expected} ${label}, due within ${d.deadlineSpreadSeconds.toFixed(1)} s`,
        `${spreadS(side.lateness)}; drained in ${side.drainSeconds.toFixed(1)} s${missing(side)}`,
        '',
      ],
    ),
    [
      'drain: the default shape, reminders then expiries',
      `${d.defaultShape.reminded} of ${d.defaultShape.expected} reminded in ${d.defaultShape.reminderDrainSeconds.toFixed(1)} s; ` +
        `with the expiries ${d.defaultShape.totalDrainSeconds.toFixed(1)} s`,
      '>= 99% reminded',
    ],
    ['drain ratio orders / bare', ratio(d.ratio), 'reported: drain.ratio (1.08 with every step an activity task)'],
    ['drain ratio orders / minimal', ratio(d.minimalRatio), `<= 1.1: ${met(d.minimalRatio <= 1.1)}`],
    ['drain ratio default shape / bare', ratio(d.defaultShapeRatio), `<= 1.0: ${met(d.defaultShapeRatio <= 1)}`],
    [
      'drain: history events / workflow tasks each',
      each(
        (x) => `${x.temporal.eventsPerWorkflow.toFixed(1)} / ${x.temporal.workflowTasksPerWorkflow.toFixed(1)}`,
      ).join(', '),
      '',
    ],
    ['drain: timer fired after deadline p99', each((x) => s(x.temporal.steps.timerFired.p99Ms)).join(', '), ''],
    ['drain: step ran p99 (orders: DB + outbox)', each((x) => ms(x.temporal.steps.activityRun.p99Ms)).join(', '), ''],
    ['drain: outbox relay commit -> NATS p99', ms(d.project.relayed.p99Ms), ''],
    [
      `drain: the worker's replays, sticky cache hits each (cache ${config.maxCachedWorkflows})`,
      sides
        .filter(([, side]) => side.cache)
        .map(([label, { cache, expected }]) => {
          const each = (n: number) => (n / expected).toFixed(2);
          const replayUs = cache!.replays ? (cache!.replaySeconds * 1e6) / cache!.replays : 0;
          return `${label.split(' (')[0]} ${each(cache!.replays)}, ${each(cache!.stickyHits)} (${replayUs.toFixed(0)} µs a replay)`;
        })
        .join('; '),
      '',
    ],
    ['drain: CPU s (temporal/worker/api/nats/bench)', each((x) => cpu(x.cpuSeconds)).join('; '), ''],
    [
      `peer: BullMQ, ${peer.jobs} delayed jobs, one deadline`,
      `enqueue ${peer.enqueuePerSec.toFixed(0)}/s; ${spreadMs(peer.lateness)}`,
      '',
    ],
  ];
}
