/**
 * The run's one table, and bench/results/latest.json: the headline figures under stable keys
 * (creation.ratio, drain.ratio...) so that a reader or a script can compare runs, then every detail.
 */
import fs from 'node:fs';
import path from 'node:path';
import { drainChart } from './chart';
import type { Creation } from './creation';
import type { Drain } from './drain/drain';
import { drainRows, met, missing, ms, spreadMs, type Row } from './drain/rows';
import type { MemoryScale } from './memory';
import type { Peer } from './peer/peer';
import type { Results } from './results';
import type { Steady } from './steady';

const RESULTS_FILE = path.join(__dirname, 'results', 'latest.json');
const num = (x: number | undefined): number | null => (x === undefined || !Number.isFinite(x) ? null : x);

export function summary(r: Results) {
  const shared = r.creation?.shared;
  const at = (waiting: number) => r.memoryScale?.points.find((p) => p.waiting === waiting);
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
      workerRssMbAt10k: num(at(10_000)?.workerMb),
      workerRssMbAt20k: num(at(20_000)?.workerMb),
      apiRssMbAt10k: num(at(10_000)?.apiMb),
      workerMbPer1000: num(r.memoryScale?.workerMbPer1000),
      cacheSize: r.memoryScale?.cacheSize ?? null,
    },
    peer: { bull: { ...peerSummary(r.peers[0]), sizes: r.peers.map(peerSummary) } },
  };
}

const drainSummary = (d: Drain | undefined) => ({
  ratio: num(d?.ratio),
  minimalRatio: num(d?.minimalRatio),
  defaultShapeRatio: num(d?.defaultShapeRatio),
  complete: d?.complete ?? null,
  orders: d?.orders ?? null,
  bareSeconds: num(d?.bare.drainSeconds),
  minimalSeconds: num(d?.minimal.drainSeconds),
  projectSeconds: num(d?.project.drainSeconds),
  /** Both bursts: the reminders', then the expiries' (drain.ts). */
  defaultShapeSeconds: num(d?.defaultShape.totalDrainSeconds),
  defaultShapeReminderSeconds: num(d?.defaultShape.reminderDrainSeconds),
  projectLatenessP99Ms: num(d?.project.lateness.p99Ms),
  defaultShapeLatenessP99Ms: num(d?.defaultShape.lateness.p99Ms),
  bareLatenessP99Ms: num(d?.bare.lateness.p99Ms),
  minimalLatenessP99Ms: num(d?.minimal.lateness.p99Ms),
  eventsPerOrder: d
    ? {
        orders: num(d.project.temporal.eventsPerWorkflow),
        defaultShape: num(d.defaultShape.temporal.eventsPerWorkflow),
        bare: num(d.bare.temporal.eventsPerWorkflow),
        minimal: num(d.minimal.temporal.eventsPerWorkflow),
      }
    : null,
});

const peerSummary = (p: Peer | undefined) => ({
  jobs: p?.jobs ?? null,
  enqueuePerSec: num(p?.enqueuePerSec),
  latenessP99Ms: num(p?.lateness.p99Ms),
  drainSeconds: num(p?.drainSeconds),
});

/** latest.json, and the drain's chart beside it (latest.svg) when the run measured a drain. */
export function writeResults(r: Results): string {
  fs.mkdirSync(path.dirname(RESULTS_FILE), { recursive: true });
  const at = new Date().toISOString();
  fs.writeFileSync(RESULTS_FILE, `${JSON.stringify({ at, ...summary(r), details: r }, null, 2)}\n`);
  const chart = drainChart(r);
  if (chart) fs.writeFileSync(RESULTS_FILE.replace(/\.json$/, '.svg'), `${chart}\n`);
  return path.relative(process.cwd(), RESULTS_FILE) + (chart ? ' (and the chart, latest.svg)' : '');
}

const mb = (x: number | undefined) => (x !== undefined && Number.isFinite(x) ? `${x.toFixed(0)} MB` : '-');

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
    ['creation ratio REST / bare', ratio.toFixed(2), `>= 0.90: ${met(ratio >= 0.9)}`],
  ];
}

function steadyRow(steady: Steady): Row {
  return [
    `steady ${steady.rate}/s, ${steady.windowSeconds} s window, ${steady.seconds} s`,
    `API ${spreadMs(steady.api.latency)}; expiry ${spreadMs(steady.expiry.lateness)}${missing(steady.expiry)}`,
    `expiry p99 <= 1 s: ${met(steady.expiry.lateness.p99Ms <= 1000)}; API p99 <= 50 ms: ${met(steady.api.latency.p99Ms <= 50)}`,
  ];
}

function memoryRows(m: MemoryScale): Row[] {
  return [
    ...m.points.map(
      (p): Row => [
        `memory, ${p.waiting} orders waiting (cache ${m.cacheSize})`,
        `worker ${mb(p.workerMb)}, API ${mb(p.apiMb)}`,
        p.waiting >= 10_000 ? `worker <= 300 MB: ${met(p.workerMb <= 300)}` : '',
      ],
    ),
    ['memory growth per 1,000 waiting', `worker ${mb(m.workerMbPer1000)}, API ${mb(m.apiMbPer1000)}`, ''],
  ];
}

export function printTable(r: Results): void {
  const rows: Row[] = [['measure', 'result', 'target'], ...tableRows(r)];
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((row) => row[i]!.length)));
  const line = (row: string[]) => `| ${row.map((cell, i) => cell.padEnd(widths[i]!)).join(' | ')} |`;
  console.log(line(rows[0]!));
  console.log(`| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`);
  for (const row of rows.slice(1)) console.log(line(row));
}
