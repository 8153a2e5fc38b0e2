/**
 * The service as production runs it (the Dockerfile's): compiled JavaScript and the prebuilt workflow
 * bundle from `npm run build`, the API and the worker as separate processes, configured through the
 * environment. Shared by the bench and the chaos run.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import type { Log, Resources } from './resources';
import { ROOT } from './servers';

export const API_SCRIPT = 'dist/api/server.js';
export const WORKER_SCRIPT = 'dist/worker.js';

/**
 * The worker's memory settings, as every launcher of it sets them (the bench, chaos, the cluster,
 * `npm run dev`; docker-compose.yml and infra/k8s/orders-worker.yaml say the same, and
 * test/unit/worker-memory.test.ts holds them to it). Measured by the bench's memory part
 * (docs/performance.md): V8's heaps (the main thread's and the workflow thread's) grow long before
 * they are collected, and glibc gives each of the ~16 threads of Node and the SDK's core an arena of
 * its own. With these the worker held 247–262 MB with 1,000 to 20,000 orders waiting, not 354–392.
 * (The old generation's cap was once blamed for a worker that died resuming from a long pause; that
 * was the workflow VM's deadline: docs/operations.md, "A worker that resumes from a long stall".)
 */
export const WORKER_MEMORY_ENV = {
  NODE_OPTIONS: '--max-old-space-size=160 --max-semi-space-size=4',
  MALLOC_ARENA_MAX: '2',
} as const;

/** `env` with the worker's memory settings; Node options already set are kept, before them. */
export function withWorkerMemory(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const options = [env.NODE_OPTIONS, WORKER_MEMORY_ENV.NODE_OPTIONS].filter(Boolean).join(' ');
  return { ...env, ...WORKER_MEMORY_ENV, NODE_OPTIONS: options };
}

/** `npm run build`; its stop (on a failure elsewhere) ends tsc and the bundler too, not only npm. */
export async function buildDist(resources: Resources, log: Log): Promise<void> {
  log('building dist/ (npm run build)');
  // its own process group, so that a stop ends tsc and the bundler too, not only npm
  const child = spawn('npm', ['run', '-s', 'build'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  resources.add('npm run build', () => child.exitCode === null && process.kill(-child.pid!, 'SIGTERM'));
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const [code] = (await once(child, 'close')) as [number | null];
  if (code !== 0) throw new Error(`npm run build failed:\n${output}`);
}

export interface ServiceSettings {
  jwtKey: string;
  apiPort: number;
  workerHealthPort: number;
  natsPort: number;
  temporalPort: number;
  /** SQLite's folder (unless databaseUrl is set). */
  dataDir: string;
  windowSeconds: number;
  databaseUrl?: string;
}

/** The environment of the API and the worker: the servers' ports, the database, the window, the prebuilt bundle. */
export function serviceEnv(s: ServiceSettings): NodeJS.ProcessEnv {
  return {
    ...process.env,
    JWT_KEY: s.jwtKey,
    PORT: String(s.apiPort),
    WORKER_HEALTH_PORT: String(s.workerHealthPort),
    NATS_URL: `nats://127.0.0.1:${s.natsPort}`,
    TEMPORAL_ADDRESS: `127.0.0.1:${s.temporalPort}`,
    DATA_DIR: s.dataDir,
    ...(s.databaseUrl ? { DATABASE_URL: s.databaseUrl } : {}),
    ORDER_EXPIRATION_SECONDS: String(s.windowSeconds),
    // The benchmark and the chaos campaign place thousands of orders as one user or a dozen: the
    // hold and rate limits guard against the open internet, not against them (the API tests cover them).
    MAX_ACTIVE_ORDERS_PER_USER: '1000000',
    RATE_LIMIT_PER_MINUTE: '0',
    RATE_LIMIT_PER_IP_PER_MINUTE: '0',
    // The chaos run's clients retry a POST for 30 s: a shorter lease lets a retry take over the
    // Idempotency-Key of an attempt whose API was killed, within that time.
    IDEMPOTENCY_LEASE_SECONDS: '5',
    LOG_LEVEL: 'warn',
    WORKFLOW_BUNDLE: path.join(ROOT, 'dist', 'workflow-bundle.js'),
  };
}
