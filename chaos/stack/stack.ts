/**
 * The real parts the campaign runs against, each on its own free port, restartable on the same port
 * and data: a Temporal dev server on its SQLite file (kill -9 and restart keep its state), nats-server
 * with its JetStream store, the database (stack/database.ts), and the compiled APIs and workers as
 * separate processes (`npm run build`, WORKFLOW_BUNDLE), `--replicas` of each, started together as
 * a deployment starts them. With more than one, they are named api-1, api-2, worker-1, …
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Resources } from '../../scripts/lib/resources';
import { freePort, ROOT, startNatsServer, startTemporalDevServer } from '../../scripts/lib/servers';
import {
  API_SCRIPT,
  buildDist,
  serviceEnv,
  withWorkerMemory,
  WORKER_SCRIPT,
} from '../../scripts/lib/service-processes';
import { log } from '../log';
import type { ChaosOptions } from '../options';
import { postgresDatabase, sqliteDatabase, type ChaosDatabase } from './database';
import { ManagedProcess, type Crash } from './managed-process';

export const JWT_KEY = 'chaos-jwt-key';

export interface ChaosStack {
  /** The run's folder: servers' data, SQLite, the processes' logs. */
  dir: string;
  /** One per API replica: a client's tries go round them, as behind a balancer. */
  apiUrls: string[];
  /** Each replica's /readyz: the APIs' and the workers'. */
  readyUrls: string[];
  natsUrl: string;
  temporalAddress: string;
  temporal: ManagedProcess;
  nats: ManagedProcess;
  workers: ManagedProcess[];
  apis: ManagedProcess[];
  database: ChaosDatabase;
  processes: ManagedProcess[];
  crashes(): Crash[];
}

export async function startStack(resources: Resources, options: ChaosOptions): Promise<ChaosStack> {
  if (options.build) await buildDist(resources, log);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orders-chaos-'));
  resources.add('run folder', () => fs.rmSync(dir, { recursive: true, force: true }));
  fs.mkdirSync(path.join(dir, 'logs'));
  const [temporalPort, uiPort, natsPort] = await Promise.all([freePort(), freePort(), freePort()]);
  const ports = () => Promise.all(Array.from({ length: options.replicas }, () => freePort()));
  const [apiPorts, workerHealthPorts] = [await ports(), await ports()];
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

  const env = (apiPort: number, workerHealthPort: number) => ({
    ...serviceEnv({
      jwtKey: JWT_KEY,
      apiPort,
      workerHealthPort,
      natsPort,
      temporalPort,
      dataDir: dir,
      windowSeconds: options.windowSeconds,
      databaseUrl: database.serviceUrl,
    }),
    // Holds that are extended and reminded within the run's short window (both off by default):
    // two extensions of a third of the window each, and order:expiring a third of it before the end.
    MAX_HOLD_EXTENSIONS: '2',
    ORDER_EXTENSION_SECONDS: String(Math.max(1, Math.round(options.windowSeconds / 3))),
    ORDER_EXPIRING_REMINDER_SECONDS: String(Math.max(1, Math.round(options.windowSeconds / 3))),
  });
  const node = (name: string, script: string, port: number, processEnv: NodeJS.ProcessEnv) => {
    const logFile = path.join(dir, 'logs', `${name}.log`);
    const spawnNode = () => {
      const output = fs.openSync(logFile, 'a');
      const child = spawn(process.execPath, [script], {
        cwd: ROOT,
        env: processEnv,
        stdio: ['ignore', output, output],
      });
      fs.closeSync(output);
      return child;
    };
    return managed(new ManagedProcess({ name, port, logFile, spawn: spawnNode }, resources));
  };
  const named = (role: string, i: number) => (options.replicas > 1 ? `${role}-${i + 1}` : role);
  // The other role's port is 0 (none): a worker serves no API, an API no worker health.
  const workers = workerHealthPorts.map((port, i) =>
    node(named('worker', i), WORKER_SCRIPT, port, withWorkerMemory(env(0, port))),
  );
  const apis = apiPorts.map((port, i) => node(named('api', i), API_SCRIPT, port, env(port, 0)));
  // Together, as a deployment starts them: they all migrate the fresh database.
  await Promise.all([...workers, ...apis].map((p) => p.start()));
  const processes = [temporal, nats, ...workers, ...apis];
  log(`up: ${processes.map((p) => `${p.name} ${p.pid}`).join(', ')}, ${database.kind}; data in ${dir}`);
  return {
    dir,
    apiUrls: apiPorts.map((port) => `http://127.0.0.1:${port}`),
    readyUrls: [...apiPorts, ...workerHealthPorts].map((port) => `http://127.0.0.1:${port}/readyz`),
    natsUrl: `nats://127.0.0.1:${natsPort}`,
    temporalAddress: `127.0.0.1:${temporalPort}`,
    temporal,
    nats,
    workers,
    apis,
    database,
    processes,
    crashes: () => processes.flatMap((p) => p.crashes),
  };
}
