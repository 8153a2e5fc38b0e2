/**
 * The stack the bench measures, as production runs it: the compiled API and worker as separate
 * processes on SQLite, against their own Temporal dev server (WAL file, as `npm run dev`) and
 * nats-server. Every start registers its stop in the Resources, so that any failure stops it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { connect, type NatsConnection } from 'nats';
import type { Resources } from '../scripts/lib/resources';
import {
  freePort,
  ROOT,
  startNatsServer,
  startTemporalDevServerOnFreePorts,
  stopChild,
  waitForPort,
} from '../scripts/lib/servers';
import { API_SCRIPT, buildDist, serviceEnv, withWorkerMemory, WORKER_SCRIPT } from '../scripts/lib/service-processes';
import { config, log } from './config';
import type { CpuSnapshot } from './load';
import { cpuSeconds } from './processes';

/**
 * The window of the stack's API, on which creation, the fixed rates and the memory part place their
 * orders: none falls due during the run. The drains and the steady state have APIs of their own.
 */
const HOLD_WINDOW_SECONDS = 24 * 3600;

export interface Stack {
  /** The temp folder: the servers' data and the API's SQLite database. */
  dir: string;
  apiPort: number;
  api: ChildProcess;
  worker: ChildProcess;
  /** On the same native connection the API uses, so that both kinds of start pay the same client cost. */
  client: Client;
  nc: NatsConnection;
  cpuSnapshot: CpuSnapshot;
  /** The worker's SDK metrics (worker-metrics.ts reads its sticky cache and replays there). */
  workerMetricsPort: number;
  /** The API's and worker's environment. */
  env: NodeJS.ProcessEnv;
}

/** An API process of its own, stopped when its part is done. */
export interface ExtraApi {
  port: number;
  pid: number | undefined;
  stop: () => Promise<void>;
}

export async function startStack(resources: Resources): Promise<Stack> {
  await buildDist(resources, log);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orders-bench-'));
  resources.add('temp folder', () => fs.rmSync(dir, { recursive: true, force: true }));
  const [nPort, apiPort, healthPort, workerMetricsPort] = await Promise.all([
    freePort(),
    freePort(),
    freePort(),
    freePort(),
  ]);
  const nats = startNatsServer({ port: nPort, storeDir: path.join(dir, 'nats') });
  track(resources, 'nats', nats.child, () => nats.stop());
  const { server: temporal, port: tPort } = await startTemporalDevServerOnFreePorts({
    dbFile: path.join(dir, 'temporal.db'),
  });
  track(resources, 'temporal', temporal.child, () => temporal.stop());
  await waitForPort(nPort, 'nats', 20_000, nats);
  const env = serviceEnv({
    jwtKey: config.jwtKey,
    apiPort,
    workerHealthPort: healthPort,
    natsPort: nPort,
    temporalPort: tPort,
    dataDir: dir,
    windowSeconds: HOLD_WINDOW_SECONDS,
  });
  // As every launcher runs it; BENCH_WORKER_NODE_OPTIONS adds Node flags to measure (they win)
  const workerEnv: NodeJS.ProcessEnv = { ...withWorkerMemory(env), TEMPORAL_METRICS_PORT: String(workerMetricsPort) };
  const more = process.env.BENCH_WORKER_NODE_OPTIONS;
  if (more) workerEnv.NODE_OPTIONS = `${workerEnv.NODE_OPTIONS} ${more}`;
  const worker = startNode(resources, 'worker', WORKER_SCRIPT, workerEnv);
  // The worker and the API both migrate the SQLite database, which has no migration lock: the API
  // starts once the worker answers on its health port, which it opens after its migrations.
  await waitForPort(healthPort, 'worker', 60_000);
  const api = startNode(resources, 'api', API_SCRIPT, env);
  await waitForPort(apiPort, 'api', 60_000);
  log(
    `processes: temporal ${temporal.child.pid}, nats ${nats.child.pid}, worker ${worker.pid}, api ${api.pid}; data in ${dir}`,
  );

  const connection = await NativeConnection.connect({ address: env.TEMPORAL_ADDRESS! });
  resources.add('Temporal connection', () => connection.close());
  const nc = await connect({ servers: env.NATS_URL! });
  resources.add('NATS connection', () => nc.close());
  const cpuSnapshot = () => ({
    temporal: cpuSeconds(temporal.child.pid),
    api: cpuSeconds(api.pid),
    worker: cpuSeconds(worker.pid),
    nats: cpuSeconds(nats.child.pid),
    bench: (process.cpuUsage().user + process.cpuUsage().system) / 1e6,
  });
  return { dir, apiPort, api, worker, client: new Client({ connection }), nc, cpuSnapshot, workerMetricsPort, env };
}

/**
 * One more API with its own expiration window (and `more` settings, such as the reminder's lead): the
 * API reads ORDER_EXPIRATION_SECONDS once per process, and the steady state and the memory part need
 * other windows than the drain's.
 */
export async function startApi(
  resources: Resources,
  stack: Stack,
  windowSeconds: number,
  more: NodeJS.ProcessEnv = {},
): Promise<ExtraApi> {
  const port = await freePort();
  const env = { ...stack.env, PORT: String(port), ORDER_EXPIRATION_SECONDS: String(windowSeconds), ...more };
  let stopped = false;
  const child = startNode(resources, `api (${windowSeconds} s window)`, API_SCRIPT, env, () => stopped);
  await waitForPort(port, 'api', 60_000);
  const stop = async () => {
    stopped = true;
    await stopChild(child);
  };
  return { port, pid: child.pid, stop };
}

/** The API or the worker, from dist/. */
function startNode(
  resources: Resources,
  name: string,
  script: string,
  env: NodeJS.ProcessEnv,
  stoppedOnPurpose = () => false,
): ChildProcess {
  // BENCH_CPU_PROF=DIR writes a V8 CPU profile of the API and the worker there (open in Chrome DevTools).
  const profile = config.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${config.profileDir}`] : [];
  const child = spawn(process.execPath, [...profile, script], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  track(resources, name, child, () => stopChild(child), stoppedOnPurpose);
  return child;
}

/** Registers a process's stop, and stops the run if the process exits before the bench stops it. */
function track(
  resources: Resources,
  name: string,
  child: ChildProcess,
  stop: () => Promise<void>,
  stoppedOnPurpose = () => false,
): void {
  resources.add(name, stop);
  child.once('exit', (code, signal) => {
    if (!resources.stopping && !stoppedOnPurpose())
      resources.abort(`${name} exited unexpectedly (${signal ?? `code ${code}`})`);
  });
}
