/**
 * The project's container image on this machine, where no registry can be pulled from: the Docker
 * engine (Debian's dockerd, started here when it is not running), `docker build` of the real
 * Dockerfile (legacy builder: there is no BuildKit), and the API and the worker as containers on the
 * host's network, so that they reach the Temporal, NATS and PostgreSQL servers started natively.
 * The Node base image the Dockerfile starts FROM is made in image-base.ts.
 */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { ROOT, spawnServer, stopChild, type ServerOutput, type ServerProcess } from './servers';

export const IMAGE_TAG = 'orders-lifecycle:local';
export const DATA = path.join(ROOT, '.data');
export type Log = (msg: string) => void;
export const log: Log = (msg) => console.log(`\x1b[36m[image]\x1b[0m ${msg}`);

const KEEP = 16 * 1024;

export class CommandError extends Error {
  constructor(command: string, code: number | null, output: string) {
    super(
      `${command} failed (exit code ${code}); its last output:\n${output.trim().split('\n').slice(-40).join('\n')}`,
    );
    this.name = 'CommandError';
  }
}

/**
 * Runs a command to its end and returns its standard output; `onLine` sees each line of both of its
 * outputs as it comes. A failure throws with the command's last lines.
 */
export async function runCommand(
  command: string,
  args: string[],
  o: { cwd?: string; env?: NodeJS.ProcessEnv; onLine?: (line: string) => void } = {},
): Promise<string> {
  const child = spawn(command, args, {
    cwd: o.cwd ?? ROOT,
    env: o.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let tail = '';
  const partial = { stdout: '', stderr: '' };
  const take = (stream: 'stdout' | 'stderr') => (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    if (stream === 'stdout') stdout += text;
    tail = (tail + text).slice(-KEEP);
    if (!o.onLine) return;
    const lines = (partial[stream] + text).split('\n');
    partial[stream] = lines.pop()!;
    lines.forEach((line) => o.onLine!(line));
  };
  child.stdout.on('data', take('stdout'));
  child.stderr.on('data', take('stderr'));
  const [code] = (await once(child, 'close')) as [number | null];
  for (const rest of Object.values(partial)) if (rest && o.onLine) o.onLine(rest);
  if (code !== 0) throw new CommandError([command, ...args].join(' '), code, tail);
  return stdout;
}

const succeeds = (command: string, args: string[]): Promise<boolean> =>
  runCommand(command, args).then(
    () => true,
    () => false,
  );
export const imageExists = (ref: string): Promise<boolean> => succeeds('docker', ['image', 'inspect', ref]);
const dockerAnswers = (): Promise<boolean> => succeeds('docker', ['info', '--format', '{{.ServerVersion}}']);

/** Seconds since `start` (a Date.now()), for the logs. */
export const since = (start: number): string => `${((Date.now() - start) / 1000).toFixed(1)} s`;

/**
 * Starts dockerd (as root, detached, its log in .data/dockerd.log) unless `docker info` already
 * answers, and waits until it does. It is left running: a machine service, not this process's child.
 */
export async function ensureDockerd(say: Log = log, timeoutMs = 60_000): Promise<void> {
  if (await dockerAnswers()) return;
  if (process.getuid?.() !== 0) throw new Error('the Docker engine is not running, and only root can start dockerd');
  fs.mkdirSync(DATA, { recursive: true });
  const logFile = path.join(DATA, 'dockerd.log');
  const fd = fs.openSync(logFile, 'a');
  const child = spawn('/usr/sbin/dockerd', [], { detached: true, stdio: ['ignore', fd, fd] });
  fs.closeSync(fd);
  child.unref();
  const start = Date.now();
  while (!(await dockerAnswers())) {
    const said = () => fs.readFileSync(logFile, 'utf8').trim().split('\n').slice(-20).join('\n');
    if (child.exitCode !== null) throw new Error(`dockerd exited with code ${child.exitCode}; ${logFile}:\n${said()}`);
    if (Date.now() - start > timeoutMs)
      throw new Error(`dockerd did not answer within ${timeoutMs} ms; ${logFile}:\n${said()}`);
    await delay(250);
  }
  say(`started dockerd (pid ${child.pid}, log ${path.relative(ROOT, logFile)}) in ${since(start)}; it is left running`);
}

/** What the build context must leave out: the dependencies, the tools and the data are the host's. */
const MUST_IGNORE = ['node_modules', '.tools', '.data'];

/** `docker build -t <tag> .` of the project's Dockerfile, with the legacy builder, logging each step. */
export async function buildImage(tag = IMAGE_TAG, say: Log = log): Promise<void> {
  const ignore = path.join(ROOT, '.dockerignore');
  const lines = fs.existsSync(ignore) ? fs.readFileSync(ignore, 'utf8').split('\n') : [];
  const missing = MUST_IGNORE.filter((entry) => !lines.some((line) => line.trim() === entry));
  if (missing.length) throw new Error(`.dockerignore must leave out ${missing.join(', ')}: the context would be huge`);
  const start = Date.now();
  const onLine = (line: string) => {
    if (/^(Step \d+\/\d+ :|Sending build context|Successfully tagged)/.test(line)) {
      say(`${since(start).padStart(7)}  ${line.length > 110 ? `${line.slice(0, 107)}...` : line}`);
    }
  };
  const env = { ...process.env, DOCKER_BUILDKIT: '0' };
  await runCommand('docker', ['build', '--force-rm', '-t', tag, '.'], { env, onLine });
}

/** The image's id and its size in bytes. */
export async function imageInfo(ref: string): Promise<{ id: string; size: number }> {
  const [id = '', size = '0'] = (await runCommand('docker', ['image', 'inspect', '--format', '{{.Id}} {{.Size}}', ref]))
    .trim()
    .split(' ');
  return { id, size: Number(size) };
}

export interface ServiceContainer {
  name: string;
  role: 'api' | 'worker';
  /** Passed as `-e NAME` with the value in the docker client's environment, so no secret is on a command line. */
  env: Record<string, string>;
  image?: string;
  output?: ServerOutput;
}

/**
 * `docker run --rm --network host` of the API (the image's CMD) or the worker (`node dist/worker.js`).
 * `child` is the `docker run` client; `stop()` is `docker stop -t 10` (SIGTERM, then SIGKILL after
 * 10 s, as Kubernetes does) and waits for that client to exit.
 */
export function runServiceContainer(o: ServiceContainer): ServerProcess {
  const args = ['run', '--rm', '--network', 'host', '--name', o.name];
  for (const name of Object.keys(o.env)) args.push('-e', name);
  args.push(o.image ?? IMAGE_TAG, ...(o.role === 'worker' ? ['node', 'dist/worker.js'] : []));
  const server = spawnServer(o.name, 'docker', args, o.output ?? 'ignore', { ...process.env, ...o.env });
  // Ending a `docker run` client does not end its container: if this process exits without stop() (an
  // error, a library's exit hook), the containers still running are removed on the way out.
  const removeOnExit = () => server.child.exitCode === null && spawnSync('docker', ['rm', '-f', o.name]);
  process.on('exit', removeOnExit);
  server.child.once('exit', () => process.off('exit', removeOnExit));
  const stop = async (): Promise<void> => {
    if (server.child.exitCode !== null || server.child.signalCode !== null) return;
    const exited = once(server.child, 'exit');
    // A container that does not exist yet (just started) or any more (exiting): ask again while its client runs.
    for (let i = 0; i < 20 && server.child.exitCode === null; i++) {
      if (await succeeds('docker', ['stop', '-t', '10', o.name])) break;
      await delay(250);
    }
    await Promise.race([exited, delay(15_000, undefined, { ref: false })]); // the client ends with its container
    await stopChild(server.child, 5_000); // unless it did not
  };
  return { ...server, stop };
}

/** `docker kill -s KILL`: the container dies as a process killed with -9 does (and --rm removes it). */
export async function killContainer(name: string): Promise<void> {
  await runCommand('docker', ['kill', '-s', 'KILL', name]);
}
