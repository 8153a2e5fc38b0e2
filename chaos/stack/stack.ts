/**
 * The real parts the campaign runs against, each on its own free port, restartable on the same port
 * and data: a Temporal dev server on its SQLite file (kill -9 and restart keep its state), nats-server
 * with its JetStream store, the database (stack/database.ts), and the compiled API and worker as
 * separate processes (`npm run build`, WORKFLOW_BUNDLE), started together as a deployment starts them.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Resources } from '../../scripts/lib/resources';
import { freePort, ROOT, startNatsServer, startTemporalDevServer } from '../../scripts/lib/servers';
import { API_SCRIPT, buildDist, serviceEnv, WORKER_SCRIPT } from '../../scripts/lib/service-processes';
import { log } from '../log';
import type { ChaosOptions } from '../options';
import { postgresDatabase, sqliteDatabase, type ChaosDatabase } from './database';
import { ManagedProcess, type Crash } from './managed-process';

export const JWT_KEY = 'chaos-jwt-key';

export interface ChaosStack {
  /** The run's folder: servers' data, SQLite, the processes' logs. */
  dir: string;
  apiUrl: string;
  workerHealthUrl: string;
  natsUrl: string;
  temporalAddress: string;
  temporal: ManagedProcess;
  nats: ManagedProcess;
  worker: ManagedProcess;
  api: ManagedProcess;
  database: ChaosDatabase;
  processes: ManagedProcess[];
  crashes(): Crash[];
}

export async function startStack(resources: Resources, options: ChaosOptions): Promise<ChaosStack> {
  if (options.build) await buildDist(resources, log);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orders-chaos-'));
  resources.add('run folder', () => fs.rmSync(dir, { recursive: true, force: true }));
  fs.mkdirSync(path.join(dir, 'logs'));
  const [temporalPort, uiPort, natsPort, apiPort, workerHealthPort] = await Promise.all([
    freePort(),
    freePort(),
    freePort(),
    freePort(),
    freePort(),
  ]);
  const managed = (process: ManagedProcess) => {
    resources.add(process.name, () => process.stop());
    return process;
  };

  const temporalDb = path.join(dir, 'temporal', 'temporal.db');
  const temporal = managed(
    new ManagedProcess(
      {
        name: 'temporal',
        port: temporalPort,
        spawn: () => startTemporalDevServer({ port: temporalPort, uiPort, dbFile: temporalDb }).child,
      },
      resources,
    ),
  );
  const natsStore = path.join(dir, 'nats');
  const nats = managed(
    new ManagedProcess(
      { name: 'nats', port: natsPort, spawn: () => startNatsServer({ port: natsPort, storeDir: natsStore }).child },
      resources,
    ),
  );
  await Promise.all([temporal.start(), nats.start()]);
  const database = options.db === 'postgres' ? await postgresDatabase(resources) : sqliteDatabase(dir);

  const env = serviceEnv({
    jwtKey: JWT_KEY,
    apiPort,
    workerHealthPort,
    natsPort,
    temporalPort,
    dataDir: dir,
    windowSeconds: options.windowSeconds,
    databaseUrl: database.serviceUrl,
  });
  const node = (name: string, script: string, port: number) => {
    const logFile = path.join(dir, 'logs', `${name}.log`);
    const spawnNode = () => {
      const output = fs.openSync(logFile, 'a');
      const child = spawn(process.execPath, [script], { cwd: ROOT, env, stdio: ['ignore', output, output] });
      fs.closeSync(output);
      return child;
    };
    return managed(new ManagedProcess({ name, port, logFile, spawn: spawnNode }, resources));
  };
  const worker = node('worker', WORKER_SCRIPT, workerHealthPort);
  const api = node('api', API_SCRIPT, apiPort);
  // Together, as a deployment starts them: both migrate the fresh database.
  await Promise.all([worker.start(), api.start()]);
  const processes = [temporal, nats, worker, api];
  log(`up: ${processes.map((p) => `${p.name} ${p.pid}`).join(', ')}, ${database.kind}; data in ${dir}`);
  return {
    dir,
    apiUrl: `http://127.0.0.1:${apiPort}`,
    workerHealthUrl: `http://127.0.0.1:${workerHealthPort}`,
    natsUrl: `nats://127.0.0.1:${natsPort}`,
    temporalAddress: `127.0.0.1:${temporalPort}`,
    temporal,
    nats,
    worker,
    api,
    database,
    processes,
    crashes: () => processes.flatMap((p) => p.crashes),
  };
}
