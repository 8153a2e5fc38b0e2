/**
 * `npm run dev`: the whole system on one machine, on embedded defaults.
 * Starts and supervises the Temporal dev server (+ Web UI), nats-server with JetStream,
 * the worker and the API; Ctrl-C stops them all, and the data folder keeps every order
 * (and its durable timer) for the next run.
 * `npm run dev -- --tracing` also starts Zipkin (ZIPKIN_PORT, default 9411) and sends every
 * process's traces to it: one trace per order, from the POST to its events.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { ConfigError, loadConfig } from '../src/config';
import {
  isPortOpen,
  ROOT,
  startNatsServer,
  startTemporalDevServer,
  startZipkin,
  waitForPort,
  zipkinUrls,
  type ServerProcess,
} from './lib/servers';

import { DEV_JWT_KEY } from './lib/dev-defaults';
import { withWorkerMemory } from './lib/service-processes';
const c = { dim: '\x1b[2m', bold: '\x1b[1m', cyan: '\x1b[36m', yellow: '\x1b[33m', red: '\x1b[31m', reset: '\x1b[0m' };
const say = (msg: string) => console.log(`${c.cyan}[dev]${c.reset} ${msg}`);

async function main(): Promise<void> {
  const tracing = process.argv.includes('--tracing');
  const zipkinPort = Number(process.env.ZIPKIN_PORT ?? 9411);
  const jwtFromEnv = Boolean(process.env.JWT_KEY);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    JWT_KEY: process.env.JWT_KEY ?? DEV_JWT_KEY,
    LOG_FORMAT: process.env.LOG_FORMAT ?? 'pretty',
    ...(tracing ? { OTEL_TRACES_EXPORTER: 'zipkin', OTEL_EXPORTER_ZIPKIN_ENDPOINT: zipkinUrls(zipkinPort).spans } : {}),
  };
  let config;
  try {
    config = loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`${c.red}${err.message}${c.reset}`);
      process.exit(2);
    }
    throw err;
  }
  const dataDir = path.resolve(ROOT, env.DATA_DIR ?? '.data');
  const temporalPort = Number(config.temporal.connection.address.split(':').pop());
  const uiPort = Number(new URL(config.temporal.uiUrl).port || 8233);
  const natsPort = Number(new URL(config.nats.url).port || 4222);

  for (const [port, what] of [
    [temporalPort, 'Temporal'],
    [uiPort, 'the Temporal Web UI'],
    [natsPort, 'NATS'],
    [config.port, 'the API'],
    [config.workerHealthPort, "the worker's health checks"],
    [tracing ? zipkinPort : 0, 'Zipkin (ZIPKIN_PORT)'],
  ] as const) {
    if (port === 0) continue;
    if (await isPortOpen(port)) {
      console.error(
        `${c.red}Port ${port} (${what}) is already in use. Is another \`npm run dev\` running? Stop it, or set the port in the environment (docs/configuration.md).${c.reset}`,
      );
      process.exit(1);
    }
  }

  const servers: ServerProcess[] = [];
  const apps = new Map<string, ChildProcess>();
  let stopping = false;

  say(
    `starting the Temporal dev server (data: ${path.relative(ROOT, dataDir)}/temporal.db) and nats-server (JetStream: ${path.relative(ROOT, dataDir)}/nats)`,
  );
  const temporal = startTemporalDevServer({
    port: temporalPort,
    uiPort,
    dbFile: path.join(dataDir, 'temporal.db'),
    namespace: config.temporal.namespace,
    output: 'inherit',
  });
  const nats = startNatsServer({
    port: natsPort,
    monitorPort: 8222,
    storeDir: path.join(dataDir, 'nats'),
    output: 'ignore',
  });
  servers.push(temporal, nats);
  if (tracing) {
    execFileSync('bash', [path.join(ROOT, 'scripts', 'setup.sh'), '--tracing'], { stdio: 'inherit' });
    say(`starting Zipkin on ${zipkinPort} (in memory; traces of this run only)`);
    servers.push(startZipkin({ port: zipkinPort }));
  }
  for (const s of servers) {
    s.child.once('exit', (code) => {
      if (!stopping) {
        console.error(`${c.red}[dev] ${s.name} exited (code ${code}); stopping everything${c.reset}`);
        void shutdown(1);
      }
    });
  }
  await Promise.all([
    waitForPort(temporalPort, 'Temporal', 60_000, temporal),
    waitForPort(natsPort, 'nats-server', 20_000, nats),
    tracing && waitForPort(zipkinPort, 'Zipkin', 120_000, servers[2]),
  ]);

  const tsx = path.join(ROOT, 'node_modules', '.bin', 'tsx');
  const launch = (name: string, script: string, restarts = 0): void => {
    const processEnv = name === 'worker' ? withWorkerMemory(env) : env;
    const child = spawn(tsx, [script], { cwd: ROOT, env: processEnv, stdio: 'inherit' });
    apps.set(name, child);
    const startedAt = Date.now();
    child.once('exit', (code, signal) => {
      if (stopping) return;
      // Supervise: restart a crashed process, backing off when it keeps crashing at start.
      const quick = Date.now() - startedAt < 10_000;
      const delay = quick ? Math.min(30_000, 1000 * 2 ** restarts) : 1000;
      console.error(`${c.yellow}[dev] ${name} exited (${signal ?? code}); restarting in ${delay / 1000} s${c.reset}`);
      setTimeout(() => !stopping && launch(name, script, quick ? restarts + 1 : 0), delay);
    });
  };
  launch('worker', 'src/worker.ts');
  launch('api', 'src/api/server.ts');
  // "running" means both: the worker opens its health port once it polls Temporal and consumes NATS
  await Promise.all([
    waitForPort(config.port, 'the API', 60_000),
    config.workerHealthPort > 0 && waitForPort(config.workerHealthPort, 'the worker', 60_000),
  ]);

  const ns = encodeURIComponent(config.temporal.namespace);
  console.log(`
${c.bold}The order service is running.${c.reset}
  API             http://localhost:${config.port}/api/orders
  Temporal Web UI ${config.temporal.uiUrl}/namespaces/${ns}/workflows
${tracing ? `  Traces (Zipkin) ${zipkinUrls(zipkinPort).ui}  ${c.dim}(npm run demo prints each order's trace link)${c.reset}\n` : ''}  Temporal        ${config.temporal.connection.address} (namespace ${config.temporal.namespace}, task queue ${config.temporal.taskQueue})
  NATS            ${config.nats.url} (JetStream stream "${config.nats.stream}", monitoring http://127.0.0.1:8222)
  Database        ${config.database.kind === 'sqlite' ? config.database.file : 'PostgreSQL (DATABASE_URL)'}
  Order window    ${config.orderExpirationSeconds} s (ORDER_EXPIRATION_SECONDS)
  JWT secret      ${jwtFromEnv ? '(from JWT_KEY)' : `${c.yellow}${DEV_JWT_KEY}${c.reset} ${c.dim}(development value; set JWT_KEY to use your own)${c.reset}`}
${c.dim}Try it: README.md, "Walk-through". Ctrl-C stops everything; data stays in ${path.relative(ROOT, dataDir)}/.${c.reset}
`);

  async function shutdown(code: number): Promise<void> {
    if (stopping) return;
    stopping = true;
    say('stopping: API and worker first (in-flight work finishes), then NATS and Temporal');
    await Promise.all(
      [...apps.values()].map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGTERM');
          }),
      ),
    );
    await Promise.all(servers.map((s) => s.stop()));
    say('stopped');
    process.exit(code);
  }
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));
}

main().catch((err: unknown) => {
  console.error(`${c.red}[dev] ${(err as Error).stack ?? String(err)}${c.reset}`);
  process.exit(1);
});
