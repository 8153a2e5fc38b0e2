/**
 * Durability, as `npm run dev` users rely on it: everything stops (API, worker, NATS and the
 * Temporal server, persisting to its file) while an order waits; its deadline passes while
 * nothing runs; after a restart the order still expires, with both events.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { startApi } from '../../src/api/server';
import { loadConfig } from '../../src/config';
import { startWorker } from '../../src/worker';
import {
  freePort,
  startTemporalDevServer,
  startTemporalDevServerOnFreePorts,
  waitForPort,
  type ServerProcess,
} from '../../scripts/lib/servers';
import { eventually } from '../../scripts/lib/eventually';
import { ticketThenOrder } from '../../scripts/lib/ticketing';
import { postOrder, requester } from '../support/api';
import { sessionCookieForUser, TEST_JWT_KEY } from '../support/auth';
import { CoreNatsPeer, startTestNats, type TestNats } from '../support/nats';
import { newId } from '../support/orders';

let dir: string;
let nats: TestNats;
let temporal: ServerProcess | undefined;
let temporalPort: number;

const temporalDb = () => path.join(dir, 'temporal.db');
/** The restart: the same port and file as before. */
const startTemporalAgain = async () => {
  temporal = startTemporalDevServer({
    port: temporalPort,
    uiPort: await freePort(),
    dbFile: temporalDb(),
  });
  await waitForPort(temporalPort, 'Temporal dev server', 60_000, temporal);
};

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orders-restart-'));
  nats = await startTestNats();
  ({ server: temporal, port: temporalPort } = await startTemporalDevServerOnFreePorts({ dbFile: temporalDb() }));
});

afterAll(async () => {
  await temporal?.stop();
  await nats?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

test("when every process is stopped past an order's deadline and started again, then the order still expires with both events", async () => {
  const config = loadConfig({
    JWT_KEY: TEST_JWT_KEY,
    PORT: '0',
    WORKER_HEALTH_PORT: '0',
    NATS_URL: nats.url,
    TEMPORAL_ADDRESS: `127.0.0.1:${temporalPort}`,
    DATA_DIR: dir,
    ORDER_EXPIRATION_SECONDS: '3',
    OUTBOX_POLL_MS: '50',
  });
  const logger = pino({ level: 'silent' });
  const cookie = sessionCookieForUser(newId());

  // 1. the system runs; a ticket arrives and an order is created
  let worker = await startWorker(config, logger);
  let api = await startApi(config, logger);
  const peer = await CoreNatsPeer.connect(nats.url);
  const { reply } = await ticketThenOrder(peer.publish, postOrder(requester(`http://127.0.0.1:${api.port}`), cookie), {
    title: 'durable',
    price: 5,
  });
  expect(reply.status).toBe(201);
  const order = reply.body as { id: string; expiresAt: string };
  await peer.close();

  // 2. everything stops, and stays down until the deadline has passed
  await api.stop();
  await worker.stop();
  await temporal!.stop();
  await nats.pause();
  await eventually(
    async () => (Date.now() > Date.parse(order.expiresAt) + 500 ? true : undefined),
    'the deadline to pass',
  );

  // 3. everything starts again: the durable timer fires, and the events go out
  await nats.resume();
  await startTemporalAgain();
  const listener = await CoreNatsPeer.connect(nats.url);
  const events = listener.record(['expiration:complete', 'order:cancelled']);
  worker = await startWorker(config, logger);
  api = await startApi(config, logger);
  try {
    // the listener subscribed before the worker started, so it sees everything the restart publishes
    expect(await events.waitFor('expiration:complete', (d) => d.orderId === order.id, 60_000)).toEqual({
      orderId: order.id,
    });
    expect(await events.waitFor('order:cancelled', (d) => d.id === order.id)).toMatchObject({ version: 1 });
    const res = await requester(`http://127.0.0.1:${api.port}`)('GET', `/api/orders/${order.id}`, {
      headers: { cookie },
    });
    expect(res.body).toMatchObject({ status: 'cancelled', version: 1 });
  } finally {
    events.stop();
    await listener.close();
    await api.stop();
    await worker.stop();
  }
});
