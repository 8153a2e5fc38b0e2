/**
 * `npm run bench:scale` (issue 12, part 6): the same burst against the production topology of
 * `npm run cluster` (the full Temporal server on PostgreSQL, 3 NATS nodes, the service's replicas),
 * one fresh cluster per shape: one worker against two, then 4 history shards against 16. Each shape
 * gets N orders through REST, spread over its APIs, that fall due together; it reports how fast
 * they were taken, how late they expired (expiresAt to order:cancelled on NATS), and the CPU each
 * kind of process spent on the drain. It ends with one table and writes bench/results/scale.json.
 * Every cluster is stopped on success, on an error and on SIGINT/SIGTERM.
 *
 * On one 2-core machine, every process shares the same cores: the curve shows what each shape
 * costs and where the time goes, not the throughput of more machines (docs/performance.md).
 */
import fs from 'node:fs';
import path from 'node:path';
import { connect } from 'nats';
import type { ClusterProcess } from '../../scripts/lib/cluster';
import { launchCluster } from '../../scripts/lib/cluster-launch';
import { runWithResources, type Resources } from '../../scripts/lib/resources';
import { awaitArrivals, type Lateness } from '../arrivals';
import { config, log } from '../config';
import { receiveCancellations } from '../expiry';
import { runConcurrently, spread, type Spread } from '../load';
import { cpuSeconds } from '../processes';
import { restClient, seedTickets, type PostOrder } from '../rest';

/** The shapes, in the order that changes one thing at a time. */
const SHAPES: Shape[] = [
  { workers: 1, shards: 4 },
  { workers: 2, shards: 4 },
  { workers: 2, shards: 16 },
];

interface Shape {
  workers: number;
  shards: number;
}

interface ShapeResult extends Shape {
  orders: number;
  creation: { perSecond: number; latency: Spread; failed: number };
  drain: Lateness;
  /** CPU seconds from the first deadline to the last message, by kind of process. */
  cpuSeconds: Record<string, number>;
}

const RESULTS_FILE = path.join(__dirname, '..', 'results', 'scale.json');
const orders = Number(process.env.BENCH_SCALE_ORDERS ?? (config.quick ? 200 : 1000));
if (!Number.isInteger(orders) || orders <= 0) throw new Error('BENCH_SCALE_ORDERS: a positive integer');

async function measureShape(resources: Resources, shape: Shape): Promise<ShapeResult> {
  // A window that outlasts the creation of every order (the cluster takes 50 to 100 a second here)
  const windowSeconds = Math.ceil(orders / 40) + 15;
  log(`scale: ${shape.workers} worker(s), ${shape.shards} history shards: starting a cluster`);
  const cluster = await launchCluster({
    workers: shape.workers,
    env: {
      ...process.env,
      CLUSTER_HISTORY_SHARDS: String(shape.shards),
      ORDER_EXPIRATION_SECONDS: String(windowSeconds),
      JWT_KEY: config.jwtKey,
      // The bench's crowd places thousands of orders: the hold and rate limits guard against the internet
      MAX_ACTIVE_ORDERS_PER_USER: '1000000',
      RATE_LIMIT_PER_MINUTE: '0',
      RATE_LIMIT_PER_IP_PER_MINUTE: '0',
      LOG_LEVEL: 'warn',
    },
  });
  // Stopped before the next shape starts, or by the run's stop on an error or a signal: once
  let stopping: Promise<void> | undefined;
  const stopCluster = () => (stopping ??= cluster.stop());
  resources.add(`cluster (${shape.workers} workers, ${shape.shards} shards)`, stopCluster);
  try {
    const processes = (JSON.parse(fs.readFileSync(cluster.stateFile, 'utf8')) as { processes: ClusterProcess[] })
      .processes;
    const nc = await connect({
      servers: processes.filter((p) => p.kind === 'nats').map((p) => `nats://127.0.0.1:${p.ports.client}`),
    });
    try {
      const posts = processes.filter((p) => p.kind === 'api').map((p) => restClient(resources, p.ports.http!));
      const post: PostOrder = (ticketId) => posts[Math.floor(Math.random() * posts.length)]!(ticketId);
      const tickets = await seedTickets(nc, post, orders);
      const cancelled = receiveCancellations(nc);
      const { due, creation } = await createOrders(post, tickets);
      log(
        `scale: ${due.size} orders taken at ${creation.perSecond.toFixed(0)}/s (p99 ${creation.latency.p99Ms.toFixed(0)} ms)`,
      );
      const cpu = () => cpuByKind(processes);
      let atDue: Record<string, number> | undefined;
      const first = Math.min(...due.values());
      const timer = setTimeout(() => (atDue = cpu()), Math.max(0, first - Date.now()));
      const drain = await awaitArrivals(`scale ${shape.workers}w/${shape.shards}s`, due, cancelled, {
        stallMs: 180_000,
        patienceMs: 600_000,
      });
      clearTimeout(timer);
      const after = cpu();
      const before = atDue ?? after;
      const cpuSeconds = Object.fromEntries(Object.keys(after).map((k) => [k, after[k]! - before[k]!]));
      log(
        `scale: drained in ${drain.drainSeconds.toFixed(1)} s, lateness p99 ${(drain.lateness.p99Ms / 1000).toFixed(1)} s (${drain.seen}/${drain.expected})`,
      );
      return { ...shape, orders: due.size, creation, drain, cpuSeconds };
    } finally {
      await nc.close();
    }
  } finally {
    await stopCluster();
  }
}

async function createOrders(post: PostOrder, tickets: string[]) {
  const due = new Map<string, number>();
  const latencies: number[] = [];
  let failed = 0;
  const started = performance.now();
  await runConcurrently(tickets.length, config.concurrency, async (i) => {
    const sent = performance.now();
    const res = await post(tickets[i]!);
    latencies.push(performance.now() - sent);
    if (res.status !== 201) return void failed++;
    const order = JSON.parse(res.body) as { id: string; expiresAt: string };
    due.set(order.id, Date.parse(order.expiresAt));
  });
  const perSecond = tickets.length / ((performance.now() - started) / 1000);
  return { due, creation: { perSecond, latency: spread(latencies), failed } };
}

/** CPU seconds so far of every process of the cluster, summed by kind (the Temporal services apart). */
function cpuByKind(processes: ClusterProcess[]): Record<string, number> {
  const sums: Record<string, number> = {};
  for (const p of processes) {
    const key = p.kind === 'temporal' ? p.name.replace(/^temporal-/, '') : p.kind;
    sums[key] = (sums[key] ?? 0) + cpuSeconds(p.pid);
  }
  return sums;
}

const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function printTable(results: ShapeResult[]): void {
  const kinds = ['history', 'matching', 'frontend', 'postgres', 'worker', 'api', 'nats'];
  const rows = [
    [
      'workers',
      'shards',
      'orders',
      'taken /s',
      'POST p99',
      'lateness p50 / p99 / max',
      'drain',
      `drain CPU s (${kinds.join('/')})`,
    ],
    ...results.map((r) => [
      String(r.workers),
      String(r.shards),
      `${r.drain.seen}/${r.orders}`,
      r.creation.perSecond.toFixed(0),
      `${r.creation.latency.p99Ms.toFixed(0)} ms`,
      `${secs(r.drain.lateness.p50Ms)} / ${secs(r.drain.lateness.p99Ms)} / ${secs(r.drain.lateness.maxMs)}`,
      `${r.drain.drainSeconds.toFixed(1)} s`,
      kinds.map((k) => (r.cpuSeconds[k] ?? NaN).toFixed(0)).join('/'),
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const line = (row: string[]) => `| ${row.map((cell, i) => cell.padEnd(widths[i]!)).join(' | ')} |`;
  console.log(line(rows[0]!));
  console.log(`| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`);
  for (const row of rows.slice(1)) console.log(line(row));
}

runWithResources(
  async (resources) => {
    const began = Date.now();
    const results: ShapeResult[] = [];
    for (const shape of SHAPES) results.push(await measureShape(resources, shape));
    return { orders, results, wallSeconds: (Date.now() - began) / 1000 };
  },
  log,
  (run) => {
    printTable(run.results);
    fs.mkdirSync(path.dirname(RESULTS_FILE), { recursive: true });
    fs.writeFileSync(RESULTS_FILE, `${JSON.stringify({ at: new Date().toISOString(), ...run }, null, 2)}\n`);
    log(
      `figures in ${path.relative(process.cwd(), RESULTS_FILE)}; the run took ${(run.wallSeconds / 60).toFixed(1)} min`,
    );
  },
);
