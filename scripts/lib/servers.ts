/**
 * Starts the real servers the project runs on: the Temporal CLI dev server (with its Web UI)
 * and nats-server with JetStream, from `.tools/` (installed by scripts/setup.sh).
 * Used by `npm run dev` and by the tests, which start their own on free ports.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { SearchAttributes } from '../../src/workflows/shared';
import { track } from './process-registry';

export const ROOT = path.resolve(__dirname, '..', '..');
export const tool = (name: string): string => {
  const file = path.join(ROOT, '.tools', 'venv', 'bin', name);
  if (!fs.existsSync(file)) throw new Error(`${name} is not installed: run \`npm run setup\` (scripts/setup.sh)`);
  return file;
};

export interface ServerProcess {
  name: string;
  child: ChildProcess;
  /** The last lines the server printed, when its output is not inherited: what a failed start says. */
  lastOutput(): string;
  /** SIGTERM, then SIGKILL after `graceMs` (10 s). */
  stop(graceMs?: number): Promise<void>;
}

const OUTPUT_TAIL_BYTES = 4096;

/**
 * Where a server's output goes: the terminal, nowhere (only its tail is kept), a pipe for the caller,
 * or appended to a log file (whose tail is read back on a failed start).
 */
export type ServerOutput = 'inherit' | 'ignore' | 'pipe' | { logFile: string };

export function spawnServer(
  name: string,
  command: string,
  args: string[],
  output: ServerOutput = 'ignore',
  env: NodeJS.ProcessEnv = process.env,
): ServerProcess {
  const logFd = typeof output === 'object' ? openLog(output.logFile) : undefined;
  const sink = logFd ?? (output === 'inherit' ? 'inherit' : 'pipe');
  const child = spawn(command, args, { env, stdio: ['ignore', sink, sink] });
  if (logFd !== undefined) fs.closeSync(logFd); // the child holds its own copy
  track(child, name); // under jest, so that the run stops it even if its test does not
  let tail = '';
  // 'ignore' still reads the output, keeping only its tail, so that a server that dies at start says why.
  if (output === 'ignore') {
    const keep = (chunk: Buffer) => {
      tail = (tail + chunk.toString('utf8')).slice(-OUTPUT_TAIL_BYTES);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
  }
  const lastOutput = typeof output === 'object' ? () => tailOf(output.logFile) : () => tail.trim();
  return { name, child, lastOutput, stop: (graceMs) => stopChild(child, graceMs) };
}

function openLog(file: string): number {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  return fs.openSync(file, 'a');
}

function tailOf(file: string): string {
  const text = fs.readFileSync(file, 'utf8');
  return text.slice(-OUTPUT_TAIL_BYTES).trim();
}

/** SIGTERM, so that it shuts down as it would in production; SIGKILL if it is still there after `graceMs`. */
export async function stopChild(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** The search attributes the order workflow uses, as `--search-attribute` flags of the dev server. */
export const searchAttributeFlags = (): string[] =>
  Object.values(SearchAttributes).flatMap((key) => ['--search-attribute', `${key.name}=Keyword`]);

export interface TemporalDevServerOptions {
  port: number;
  uiPort: number;
  /** Persist to this SQLite file (WAL); without it the server keeps everything in memory. */
  dbFile?: string;
  namespace?: string;
  output?: ServerOutput;
  /** Dynamic config values (key -> JSON value), on top of the dev server's own. */
  dynamicConfig?: Record<string, unknown>;
}

/**
 * Dynamic config for an experiment, from TEMPORAL_DEV_DYNAMIC_CONFIG: `key=json,key=json` (the bench
 * measures one knob at a time with it; docs/performance.md). Refused, not ignored, when malformed.
 */
export function dynamicConfigFromEnv(value = process.env.TEMPORAL_DEV_DYNAMIC_CONFIG): Record<string, unknown> {
  if (!value) return {};
  return Object.fromEntries(
    value.split(',').map((pair) => {
      const [key, json] = pair.split('=', 2);
      if (!key || json === undefined) throw new Error(`TEMPORAL_DEV_DYNAMIC_CONFIG: "${pair}" is not key=value`);
      return [key.trim(), JSON.parse(json) as unknown];
    }),
  );
}

export function startTemporalDevServer(o: TemporalDevServerOptions): ServerProcess {
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(o.port), '--ui-port', String(o.uiPort)];
  args.push('--namespace', o.namespace ?? 'default', '--log-level', 'error', ...searchAttributeFlags());
  for (const [key, value] of Object.entries({ ...o.dynamicConfig, ...dynamicConfigFromEnv() }))
    args.push('--dynamic-config-value', `${key}=${JSON.stringify(value)}`);
  if (o.dbFile) {
    fs.mkdirSync(path.dirname(o.dbFile), { recursive: true });
    // WAL with synchronous=normal: 2-3x the starts/s of the default and survives a killed process.
    args.push(
      '--db-filename',
      o.dbFile,
      '--sqlite-pragma',
      'journal_mode=wal',
      '--sqlite-pragma',
      'synchronous=normal',
    );
  }
  return spawnServer('temporal', tool('temporal'), args, o.output);
}

/**
 * A dev server on free ports, started again on new ones when it dies before it listens: a port
 * can be taken between freePort() and the bind, and the server picks its internal ports itself,
 * which races with the other servers a parallel test run starts.
 */
export async function startTemporalDevServerOnFreePorts(
  o: Omit<TemporalDevServerOptions, 'port' | 'uiPort'>,
  attempts = 3,
): Promise<{ server: ServerProcess; port: number; uiPort: number }> {
  for (let attempt = 1; ; attempt++) {
    const [port, uiPort] = [await freePort(), await freePort()];
    const server = startTemporalDevServer({ ...o, port, uiPort });
    try {
      await waitForPort(port, 'Temporal dev server', 60_000, server);
      await waitForPort(uiPort, 'Temporal Web UI', 60_000, server);
      return { server, port, uiPort };
    } catch (err) {
      await server.stop();
      if (!(err instanceof ServerExitedError) || attempt >= attempts) throw err;
      console.warn(`${err.message}\nstarting it again on other ports (attempt ${attempt + 1} of ${attempts})`);
    }
  }
}

export interface NatsServerOptions {
  port: number;
  monitorPort?: number;
  storeDir: string;
  output?: ServerOutput;
  /** A node of a cluster: its name, the port its peers reach it on, and theirs. */
  cluster?: { name: string; serverName: string; port: number; routePorts: number[] };
}

export function startNatsServer(o: NatsServerOptions): ServerProcess {
  fs.mkdirSync(o.storeDir, { recursive: true });
  const args = ['-js', '-sd', o.storeDir, '-a', '127.0.0.1', '-p', String(o.port)];
  if (o.monitorPort) args.push('-m', String(o.monitorPort));
  if (o.cluster) {
    const routes = o.cluster.routePorts.map((p) => `nats://127.0.0.1:${p}`).join(',');
    args.push('--name', o.cluster.serverName, '--cluster_name', o.cluster.name);
    args.push('--cluster', `nats://127.0.0.1:${o.cluster.port}`, '--routes', routes);
  }
  return spawnServer(o.cluster?.serverName ?? 'nats', tool('nats-server'), args, o.output);
}

/**
 * Zipkin (the trace backend with its UI, from `.tools/zipkin`, fetched by `scripts/setup.sh
 * --tracing`), in memory: spans go to `zipkinUrls(port).spans`, a person opens `.ui`.
 */
export function startZipkin(o: { port: number; output?: ServerOutput }): ServerProcess {
  const jar = path.join(ROOT, '.tools', 'zipkin', 'zipkin-server-exec.jar');
  if (!fs.existsSync(jar)) throw new Error('Zipkin is not installed: run `bash scripts/setup.sh --tracing`');
  const args = ['-Xms64m', '-Xmx384m', '-jar', jar, '--logging.level.root=WARN'];
  return spawnServer('zipkin', 'java', args, o.output, { ...process.env, QUERY_PORT: String(o.port) });
}

export const zipkinUrls = (port: number) => {
  const base = `http://127.0.0.1:${port}`;
  return {
    spans: `${base}/api/v2/spans`,
    ui: `${base}/zipkin/`,
    trace: (traceId: string) => `${base}/zipkin/traces/${traceId}`,
    api: `${base}/api/v2`,
    health: `${base}/health`,
  };
};

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export const isPortOpen = (port: number, host = '127.0.0.1'): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = net.connect({ port, host });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

export class ServerExitedError extends Error {
  constructor(name: string, server: ServerProcess) {
    const said = server.lastOutput();
    super(`${name} exited with code ${server.child.exitCode}${said ? `; its last output:\n${said}` : ''}`);
    this.name = 'ServerExitedError';
  }
}

/** Waits until the port accepts connections, or fails with the server's name after `timeoutMs`. */
export async function waitForPort(
  port: number,
  name: string,
  timeoutMs = 60_000,
  server?: ServerProcess,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await isPortOpen(port))) {
    if (server && server.child.exitCode !== null) throw new ServerExitedError(name, server);
    if (Date.now() > deadline) throw new Error(`${name} did not open port ${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
