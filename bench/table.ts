/**
 * The run's one table, and bench/results/latest.json: the headline figures under stable keys
 * (creation.ratio, drain.ratio...) so that a reader or a script can compare runs, then every detail.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Lateness } from './arrivals';
import type { Creation } from './creation';
import type { Drain } from './drain/drain';
import type { Spread } from './load';
import type { MemoryScale } from './memory';
import type { Peer } from './peer/peer';
import type { Results } from './results';
import type { Steady } from './steady';

const RESULTS_FILE = path.join(__dirname, 'results', 'latest.json');
const num = (x: number | undefined): number | null => (x === undefined || !Number.isFinite(x) ? null : x);

export function summary(r: Results) {
  const shared = r.creation?.shared;
  const at10k = r.memoryScale?.points.find((p) => p.waiting === 10_000);
  return {
    creation: {
      ratio: num(shared && shared.rest.perSecond / shared.bare.perSecond),
      restPerSec: num(shared?.rest.perSecond),
      barePerSec: num(shared?.bare.perSecond),
    },
    // The first N (BENCH_DRAIN_ORDERS) under the stable keys; every N under `sizes`
    drain: { ...drainSummary(r.drains[0]), sizes: r.drains.map(drainSummary) },
    steady: { latenessP99Ms: num(r.steady?.expiry.lateness.p99Ms), apiP99Ms: num(r.steady?.api.latency.p99Ms) },
    memory: {
      workerRssMbAt10k: num(at10k?.workerMb),
      apiRssMbAt10k: num(at10k?.apiMb),
      workerMbPer1000: num(r.memoryScale?.workerMbPer1000),
      cacheSize: r.memoryScale?.cacheSize ?? null,
    },
    peer: { bull: { ...peerSummary(r.peers[0]), sizes: r.peers.map(peerSummary) } },
  };
}

const drainSummary = (d: Drain | undefined) => ({
  ratio: num(d?.ratio),
  orders: d?.orders ?? null,
  bareSeconds: num(d?.bare.drainSeconds),
  projectSeconds: num(d?.project.drainSeconds),
  projectLatenessP99Ms: num(d?.project.lateness.p99Ms),
  bareLatenessP99Ms: num(d?.bare.lateness.p99Ms),
});

const peerSummary = (p: Peer | undefined) => ({
  jobs: p?.jobs ?? null,
  enqueuePerSec: num(p?.enqueuePerSec),
  latenessP99Ms: num(p?.lateness.p99Ms),
  drainSeconds: num(p?.drainSeconds),
});

export function writeResults(r: Results): string {
  fs.mkdirSync(path.dirname(RESULTS_FILE), { recursive: true });
  const at = new Date().toISOString();
  fs.writeFileSync(RESULTS_FILE, `${JSON.stringify({ at, ...summary(r), details: r }, null, 2)}\n`);
  return path.relative(process.cwd(), RESULTS_FILE);
}

const s = (ms: number) => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(1)} s` : '-');
const ms = (x: number) => (Number.isFinite(x) ? `${x.toFixed(0)} ms` : '-');
const spreadS = (x: Spread) => `p50 ${s(x.p50Ms)}, p99 ${s(x.p99Ms)}, max ${s(x.maxMs)}`;
const spreadMs = (x: Spread) => `p50 ${ms(x.p50Ms)}, p99 ${ms(x.p99Ms)}, max ${ms(x.maxMs)}`;
const mb = (x: number | undefined) => (x !== undefined && Number.isFinite(x) ? `${x.toFixed(0)} MB` : '-');
const met = (ok: boolean) => (ok ? 'met' : 'NOT met');

type Row = [string, string, string];

/** Rows of measure, result, target, for the parts the run measured. */
export function tableRows(r: Results): Row[] {
  return [
    ...(r.creation ? creationRows(r.creation) : []),
    ...(r.rates ?? []).map(
      (x): Row => [
        `REST creation offered ${x.rate}/s`,
        `${x.perSecond.toFixed(0)}/s, ${spreadMs(x.latency)}${x.failed ? `, ${x.failed} failed` : ''}`,
        '',
      ],
    ),
    ...r.drains.flatMap((d, i) => drainRows(d, r.peers[i]!)),
    ...(r.steady ? [steadyRow(r.steady)] : []),
    ...(r.memoryScale ? memoryRows(r.memoryScale) : []),
  ];
}

function creationRows({ shared }: Creation): Row[] {
  const ratio = shared.rest.perSecond / shared.bare.perSecond;
  return [
    [
      'bare starts (saturation)',
      `${shared.bare.perSecond.toFixed(0)}/s, p50 ${ms(shared.bare.p50Ms)}, p99 ${ms(shared.bare.p99Ms)}`,
      '',
    ],
    [
      'REST creation (saturation)',
      `${shared.rest.perSecond.toFixed(0)}/s, p50 ${ms(shared.rest.p50Ms)}, p99 ${ms(shared.rest.p99Ms)}`,
      '',
    ],
    ['creation ratio REST / bare', ratio.toFixed(2), `>= 0.80: ${met(ratio >= 0.8)}`],
  ];
}

function steadyRow(steady: Steady): Row {
  return [
    `steady ${steady.rate}/s, ${steady.windowSeconds} s window, ${steady.seconds} s`,
    `API ${spreadMs(steady.api.latency)}; expiry ${spreadMs(steady.expiry.lateness)}${missing(steady.expiry)}`,
    `expiry p99 <= 1 s: ${met(steady.expiry.lateness.p99Ms <= 1000)}; API p99 <= 50 ms: ${met(steady.api.latency.p99Ms <= 50)}`,
  ];
}

/** Lateness percentiles are lower bounds when messages were still missing (arrivals.ts). */
const missing = (l: Lateness) =>
  l.seen < l.expected ? ` (${l.expected - l.seen} of ${l.expected} still missing: lower bounds)` : '';

function memoryRows(m: MemoryScale): Row[] {
  return [
    ...m.points.map(
      (p): Row => [
        `memory, ${p.waiting} orders waiting (cache ${m.cacheSize})`,
        `worker ${mb(p.workerMb)}, API ${mb(p.apiMb)}`,
        p.waiting === 10_000 ? `worker <= 300 MB: ${met(p.workerMb <= 300)}` : '',
      ],
    ),
    ['memory growth per 1,000 waiting', `worker ${mb(m.workerMbPer1000)}, API ${mb(m.apiMbPer1000)}`, ''],
  ];
}

function drainRows(d: Drain, peer: Peer): Row[] {
  return [
    [
      `drain: ${d.orders} orders due within ${d.deadlineSpreadSeconds.toFixed(1)} s`,
      `${spreadS(d.project.lateness)}; drained in ${d.project.drainSeconds.toFixed(1)} s${missing(d.project)}`,
      '',
    ],
    [
      `drain: ${d.bare.expected} bare, same deadlines`,
      `${spreadS(d.bare.lateness)}; drained in ${d.bare.drainSeconds.toFixed(1)} s${missing(d.bare)}`,
      '',
    ],
    ['drain ratio orders / bare', d.ratio.toFixed(2), `<= 1.25: ${met(d.ratio <= 1.25)}`],
    [
      'drain: history events / workflow tasks',
      `orders ${d.project.temporal.eventsPerWorkflow.toFixed(1)} / ${d.project.temporal.workflowTasksPerWorkflow.toFixed(1)}, bare ${d.bare.temporal.eventsPerWorkflow.toFixed(1)} / ${d.bare.temporal.workflowTasksPerWorkflow.toFixed(1)}`,
      '',
    ],
    [
      'drain: timer fired after deadline p99',
      `orders ${s(d.project.temporal.steps.timerFired.p99Ms)}, bare ${s(d.bare.temporal.steps.timerFired.p99Ms)}`,
      '',
    ],
    [
      'drain: activity ran p99 (orders: DB + outbox)',
      `orders ${ms(d.project.temporal.steps.activityRun.p99Ms)}, bare ${ms(d.bare.temporal.steps.activityRun.p99Ms)}`,
      '',
    ],
    ['drain: outbox relay commit -> NATS p99', ms(d.project.relayed.p99Ms), ''],
    [
      'drain: CPU s (temporal/worker/api/nats/bench)',
      `orders ${cpu(d.project.cpuSeconds)}; bare ${cpu(d.bare.cpuSeconds)}`,
      '',
    ],
    [
      `peer: BullMQ, ${peer.jobs} delayed jobs, one deadline`,
      `enqueue ${peer.enqueuePerSec.toFixed(0)}/s; ${spreadMs(peer.lateness)}`,
      '',
    ],
  ];
}

const cpu = (c: Record<string, number>) =>
  ['temporal', 'worker', 'api', 'nats', 'bench'].map((k) => (c[k] ?? NaN).toFixed(0)).join('/');

export function printTable(r: Results): void {
  const rows: Row[] = [['measure', 'result', 'target'], ...tableRows(r)];
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((row) => row[i]!.length)));
  const line = (row: string[]) => `| ${row.map((cell, i) => cell.padEnd(widths[i]!)).join(' | ')} |`;
  console.log(line(rows[0]!));
  console.log(`| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`);
  for (const row of rows.slice(1)) console.log(line(row));
}
