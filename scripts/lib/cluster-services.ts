/**
 * One replica of the API or the worker in the cluster, as production runs it: the compiled
 * JavaScript of `npm run build` (`dist`), or a container of the project's image (`image`).
 * It is ready when its /readyz answers 200: its database, Temporal (and, for the worker, NATS) answer.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { eventually } from './eventually';
import { ensureNodeBaseImage } from './image-base';
import { buildImage, ensureDockerd, killContainer, runServiceContainer, type Log } from './image';
import { ROOT, spawnServer, type ServerOutput, type ServerProcess } from './servers';
import { API_SCRIPT, WORKER_MEMORY_ENV, WORKER_SCRIPT } from './service-processes';

export type ServiceRunner = 'dist' | 'image';

export interface ServiceReplica {
  name: string;
  pid(): number | undefined;
  kill(signal: NodeJS.Signals): Promise<void>;
  stop(): Promise<void>;
}

export async function startServiceReplica(o: {
  name: string;
  role: 'api' | 'worker';
  /** The API's port, or the worker's health port. */
  port: number;
  env: Record<string, string>;
  runner: ServiceRunner;
  output: ServerOutput;
}): Promise<ServiceReplica> {
  const env: Record<string, string> = {
    ...o.env,
    ...(o.role === 'api' ? { PORT: String(o.port) } : { ...WORKER_MEMORY_ENV, WORKER_HEALTH_PORT: String(o.port) }),
  };
  const start = () =>
    o.runner === 'dist' ? compiled(o.name, o.role, env, o.output) : container(o.name, o.role, env, o.output);
  let replica = start();
  try {
    // A replica that exits during its start (a dependency still recovering, such as a NATS cluster
    // electing its stream leaders) is started again, as its supervisor would, until the deadline.
    await eventually(
      async () => {
        if (replica.process.child.exitCode !== null) {
          const said = replica.process.lastOutput();
          replica = start();
          throw new Error(`${o.name} exited during its start; its last output:\n${said}`);
        }
        const res = await fetch(`http://127.0.0.1:${o.port}/readyz`);
        // Not ready yet: what it says is the timeout's message, not an older "fetch failed".
        if (!res.ok) throw new Error(`/readyz answered ${res.status}: ${await res.text()}`);
        return true;
      },
      `${o.name} to be ready on port ${o.port}`,
      120_000,
    );
  } catch (err) {
    // A replica that never answered says why only in its own output: the error carries its tail.
    const said = replica.process.lastOutput();
    await replica.stop();
    throw said ? new Error(`${(err as Error).message}\n${o.name}'s last output:\n${said}`) : err;
  }
  await replica.ready?.();
  return replica;
}

/** The image the `image` runner runs: the Docker engine started if need be, the base made, the Dockerfile built. */
export async function prepareImage(say: Log): Promise<void> {
  await ensureDockerd(say);
  await ensureNodeBaseImage(undefined, say);
  await buildImage(undefined, say);
}

interface Started extends ServiceReplica {
  process: ServerProcess;
  /** What to learn once it is ready (a container's pid). */
  ready?: () => Promise<void>;
}

function compiled(name: string, role: 'api' | 'worker', env: Record<string, string>, output: ServerOutput): Started {
  const script = path.join(ROOT, role === 'api' ? API_SCRIPT : WORKER_SCRIPT);
  const serviceEnv = { PATH: process.env.PATH, WORKFLOW_BUNDLE: path.join(ROOT, 'dist', 'workflow-bundle.js'), ...env };
  const child = spawnServer(name, process.execPath, [script], output, serviceEnv);
  return {
    name,
    process: child,
    pid: () => child.child.pid,
    kill: async (signal) => {
      if (child.child.exitCode !== null || child.child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.child.once('exit', resolve));
      child.child.kill(signal);
      await exited;
    },
    stop: () => child.stop(),
  };
}

/**
 * A container of the image on the host's network (the native servers are on 127.0.0.1). Its pid is
 * its Node process's, as the host sees it: what processes.json lists and a kill -9 hits. The other
 * role's port is 0, since the image's health check passes when either port answers.
 */
function container(name: string, role: 'api' | 'worker', env: Record<string, string>, output: ServerOutput): Started {
  execFileSync('docker', ['rm', '-f', name], { stdio: 'ignore' }); // one killed a moment ago may not be removed yet
  const other: Record<string, string> = role === 'api' ? { WORKER_HEALTH_PORT: '0' } : { PORT: '0' };
  const process = runServiceContainer({ name, role, env: { ...env, ...other }, output });
  let pid: number | undefined;
  return {
    name,
    process,
    pid: () => pid,
    ready: async () => {
      pid = Number(execFileSync('docker', ['inspect', '-f', '{{.State.Pid}}', name], { encoding: 'utf8' }).trim());
    },
    kill: async (signal) => {
      if (signal === 'SIGKILL') await killContainer(name);
      else execFileSync('docker', ['kill', '-s', signal, name]);
      await new Promise((resolve) =>
        process.child.exitCode !== null ? resolve(undefined) : process.child.once('exit', resolve),
      );
    },
    stop: () => process.stop(),
  };
}
