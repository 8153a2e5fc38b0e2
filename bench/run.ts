/**
 * `npm run bench`: the cost per order on the real stack (DESIGN.md, "Cost per order").
 *
 * It starts its own Temporal dev server (WAL file, as `npm run dev` does), nats-server, and the
 * API and worker as separate processes on SQLite, then measures on the same Temporal server:
 *   1. bare workflow starts (client.workflow.start, no worker involved): the ceiling;
 *   2. orders created through REST (POST /api/orders): target >= 0.8x the bare rate;
 *   3. expiry: how long after expiresAt the orders' order:cancelled reach a NATS subscriber,
 *      with all of them due at the same moment;
 *   4. resident memory of the API and worker processes.
 * Figures are printed; nothing is asserted (no timed assertions). Env: BENCH_ORDERS (default 1000),
 * BENCH_CONCURRENCY (64).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { ObjectId } from 'bson';
import jwt from 'jsonwebtoken';
import { connect } from 'nats';
import { freePort, ROOT, startNatsServer, startTemporalDevServer, waitForPort } from '../scripts/lib/servers';
import { sessionCookie } from '../src/api/auth';
import { temporalOrderWorkflows } from '../src/api/order-workflows';
import { ORDER_WORKFLOW_TYPE } from '../src/workflows/shared';

const N = Number(process.env.BENCH_ORDERS ?? 1000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 64);
const WINDOW_S = Number(process.env.BENCH_WINDOW_SECONDS ?? 30);
const JWT_KEY = 'bench-key';

const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? NaN;
const log = (msg: string) => console.log(`[bench] ${msg}`);

/** Runs `task(i)` for i < n with `concurrency` in flight; returns per-task latencies (ms) and the rate. */
async function load(
  n: number,
  concurrency: number,
  task: (i: number) => Promise<void>,
): Promise<{ perSecond: number; latencies: number[] }> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        const i = next++;
        const t = performance.now();
        await task(i);
        latencies.push(performance.now() - t);
      }
    }),
  );
  return { perSecond: n / ((performance.now() - started) / 1000), latencies };
}

/** CPU seconds used so far by a process and its children (the tsx launcher forks node). */
function cpuSeconds(pid: number | undefined): number {
  if (!pid) return NaN;
  const children = fs
    .readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
    .trim()
    .split(/\s+/)
    .filter(Boolean)
    .map(Number);
  return [pid, ...children].reduce((sum, p) => {
    const fields = fs.readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return sum + (Number(fields[11]) + Number(fields[12])) / 100;
  }, 0);
}

function rssMb(pid: number | undefined): string {
  if (!pid) return '?';
  // the tsx launcher forks node; report the largest process in the tree
  const pids = [
    pid,
    ...fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number),
  ];
  const rss = pids.map((p) => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0));
  return `${(Math.max(...rss) / 1024).toFixed(0)} MB`;
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orders-bench-'));
  const [tPort, uiPort, nPort, apiPort] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  const temporal = startTemporalDevServer({ port: tPort, uiPort, dbFile: path.join(dir, 'temporal.db') });
  const nats = startNatsServer({ port: nPort, storeDir: path.join(dir, 'nats') });
  await Promise.all([waitForPort(tPort, 'temporal', 60_000, temporal), waitForPort(nPort, 'nats', 20_000, nats)]);
  const env = {
    ...process.env,
    JWT_KEY,
    PORT: String(apiPort),
    WORKER_HEALTH_PORT: '0',
    NATS_URL: `nats://127.0.0.1:${nPort}`,
    TEMPORAL_ADDRESS: `127.0.0.1:${tPort}`,
    DATA_DIR: dir,
    ORDER_EXPIRATION_SECONDS: String(WINDOW_S),
    LOG_LEVEL: 'warn',
  };
  const tsx = path.join(ROOT, 'node_modules', '.bin', 'tsx');
  const procs: ChildProcess[] = [];
  const run = (script: string) => {
    const p = spawn(tsx, [script], { cwd: ROOT, env, stdio: ['ignore', 'inherit', 'inherit'] });
    procs.push(p);
    return p;
  };
  const worker = run('src/worker.ts');
  await new Promise((r) => setTimeout(r, 500));
  const api = run('src/api/server.ts');
  await waitForPort(apiPort, 'api', 60_000);
  const cpuSnapshot = (): Record<string, number> => ({
    temporal: cpuSeconds(temporal.child.pid),
    api: cpuSeconds(api.pid),
    worker: cpuSeconds(worker.pid),
    nats: cpuSeconds(nats.child.pid),
    bench: (process.cpuUsage().user + process.cpuUsage().system) / 1e6,
  });

  // the same native connection the API uses, so both phases pay the same client cost
  const connection = await NativeConnection.connect({ address: env.TEMPORAL_ADDRESS });
  const client = new Client({ connection });
  const nc = await connect({ servers: env.NATS_URL });
  log(`${N} orders, ${CONCURRENCY} concurrent clients, 2 cores shared by everything (${os.cpus().length} CPUs)`);

  // 1a. bare starts of the order workflow exactly as the API starts it (search attributes, summary),
  //     run by the worker (its first task sets the timer); far-future deadlines, so none expires here
  const farFuture = new Date(Date.now() + 3600_000).toISOString();
  const workflows = temporalOrderWorkflows(client, 'orders');
  const cpuBeforeBare = cpuSnapshot();
  const bare = await load(N, CONCURRENCY, async (i) => {
    const input = { orderId: `bench-${i}-${Date.now()}`, userId: 'u', ticket: { id: 't', title: 'bench', price: 1 } };
    await workflows.start({ ...input, expiresAt: farFuture });
  });
  log(
    `bare starts of the order workflow as the API starts it, with its worker: ${bare.perSecond.toFixed(0)}/s (p50 ${pct(bare.latencies, 50).toFixed(0)} ms, p99 ${pct(bare.latencies, 99).toFixed(0)} ms)`,
  );
  // 1b. the raw ceiling: minimal starts (no search attributes, no metadata) that no worker runs
  const cpuAfterBare = cpuSnapshot();
  const raw = await load(N, CONCURRENCY, async (i) => {
    await client.workflow.start(ORDER_WORKFLOW_TYPE, {
      taskQueue: 'bench-no-worker',
      workflowId: `bench-raw-${i}-${Date.now()}`,
      args: [{}],
    });
  });
  log(
    `bare starts, no worker at all: ${raw.perSecond.toFixed(0)}/s (p50 ${pct(raw.latencies, 50).toFixed(0)} ms, p99 ${pct(raw.latencies, 99).toFixed(0)} ms)`,
  );

  // 2. orders through REST; the service learns the tickets from NATS first
  const tickets = Array.from({ length: N }, () => new ObjectId().toHexString());
  for (const id of tickets)
    nc.publish('ticket:created', JSON.stringify({ id, version: 0, title: 'bench', price: 1, userId: 'u' }));
  await nc.flush();
  const cookie = sessionCookie(jwt.sign({ id: 'bench-user' }, JWT_KEY));
  const post = (ticketId: string) =>
    fetch(`http://127.0.0.1:${apiPort}/api/orders`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/json' },
      body: JSON.stringify({ ticketId }),
    });
  // wait until the last ticket's copy is there (a 404 means not yet)
  while ((await post(tickets[N - 1]!)).status === 404) await new Promise((r) => setTimeout(r, 200));
  const cancelled = new Map<string, number>();
  const sub = nc.subscribe('order:cancelled');
  void (async () => {
    for await (const m of sub) cancelled.set((JSON.parse(m.string()) as { id: string }).id, Date.now());
  })();

  const expiries = new Map<string, number>();
  let failures = 0;
  const cpuBeforeRest = cpuSnapshot();
  const rest = await load(N - 1, CONCURRENCY, async (i) => {
    const res = await post(tickets[i]!);
    if (res.status !== 201) {
      failures++;
      return;
    }
    const order = (await res.json()) as { id: string; expiresAt: string };
    expiries.set(order.id, Date.parse(order.expiresAt));
  });
  const cpuAfterRest = cpuSnapshot();
  const ratio = rest.perSecond / bare.perSecond;
  log(
    `REST order creation: ${rest.perSecond.toFixed(0)}/s (p50 ${pct(rest.latencies, 50).toFixed(0)} ms, p99 ${pct(rest.latencies, 99).toFixed(0)} ms), ${failures} failed`,
  );
  log(
    `ratio REST / bare starts with worker: ${ratio.toFixed(2)} (target >= 0.80: ${ratio >= 0.8 ? 'met' : 'NOT met'})`,
  );
  log(`ratio REST / bare starts without worker: ${(rest.perSecond / raw.perSecond).toFixed(2)}`);
  const perOrder = (a: Record<string, number>, b: Record<string, number>, n: number) =>
    Object.keys(a)
      .map((k) => `${k} ${(((b[k]! - a[k]!) * 1000) / n).toFixed(2)}`)
      .join(', ');
  log(`CPU ms per order, bare starts: ${perOrder(cpuBeforeBare, cpuAfterBare, N)}`);
  log(`CPU ms per order, REST:        ${perOrder(cpuBeforeRest, cpuAfterRest, N - 1)}`);
  log(`memory after creation: API ${rssMb(api.pid)}, worker ${rssMb(worker.pid)}`);

  // 3. expiry: every order's order:cancelled, measured from its expiresAt
  const lastDue = Math.max(...expiries.values());
  log(`waiting for ${expiries.size} expiries (the last is due in ${((lastDue - Date.now()) / 1000).toFixed(0)} s)...`);
  const deadline = lastDue + 180_000;
  let lastReport = 0;
  while (cancelled.size < expiries.size + 1 && Date.now() < deadline) {
    if (Date.now() - lastReport > 5000 && Date.now() > lastDue) {
      log(`  ${cancelled.size}/${expiries.size} expired`);
      lastReport = Date.now();
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const lags = [...expiries].filter(([id]) => cancelled.has(id)).map(([id, due]) => cancelled.get(id)! - due);
  log(
    `expiry: ${lags.length}/${expiries.size} order:cancelled seen; lag after expiresAt p50 ${(pct(lags, 50) / 1000).toFixed(1)} s, p99 ${(pct(lags, 99) / 1000).toFixed(1)} s, all within ${(Math.max(...lags) / 1000).toFixed(1)} s`,
  );
  log(`memory after expiry: API ${rssMb(api.pid)}, worker ${rssMb(worker.pid)}`);

  sub.unsubscribe();
  await nc.drain();
  await connection.close();
  for (const p of procs) p.kill('SIGTERM');
  await Promise.all(procs.map((p) => new Promise((r) => (p.exitCode !== null ? r(null) : p.once('exit', r)))));
  await Promise.all([temporal.stop(), nats.stop()]);
  fs.rmSync(dir, { recursive: true, force: true });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
