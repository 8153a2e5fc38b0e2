/**
 * A process whose start-up fails half-way closes what it had already opened: here the worker
 * reaches PostgreSQL and NATS, then cannot reach Temporal. Its connections must not linger,
 * which the real servers report (pg_stat_activity, nats-server's /connz).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import pino from 'pino';
import { loadConfig } from '../../src/config';
import { startWorker } from '../../src/worker';
import { freePort, startNatsServer, waitForPort, type ServerProcess } from '../../scripts/lib/servers';
import { TEST_JWT_KEY } from '../support/auth';
import { postgresStore, type TestDatabase } from '../support/database';
import { eventually } from '../../scripts/lib/eventually';

let db: TestDatabase;
let nats: ServerProcess;
let natsDir: string;
let clientPort: number;
let monitorPort: number;

beforeAll(async () => {
  [clientPort, monitorPort] = [await freePort(), await freePort()];
  natsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'orders-nats-'));
  nats = startNatsServer({ port: clientPort, monitorPort, storeDir: natsDir });
  db = await postgresStore();
  await waitForPort(monitorPort, 'nats-server monitoring', 20_000, nats);
});

afterAll(async () => {
  await nats?.stop();
  await db?.cleanup();
  if (natsDir) fs.rmSync(natsDir, { recursive: true, force: true });
});

const natsConnections = async () =>
  ((await (await fetch(`http://127.0.0.1:${monitorPort}/connz`)).json()) as { num_connections: number })
    .num_connections;

async function postgresConnections(): Promise<number> {
  if (db.config.kind !== 'postgres') throw new Error('expected PostgreSQL');
  const client = new Client({ connectionString: process.env.TEST_POSTGRES_URL });
  await client.connect();
  try {
    const name = new URL(db.config.url).pathname.slice(1);
    const { rows } = await client.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1', [name]);
    return (rows[0] as { n: number }).n;
  } finally {
    await client.end();
  }
}

test('when Temporal cannot be reached at start-up, then the worker fails and closes its database and NATS connections', async () => {
  if (db.config.kind !== 'postgres') throw new Error('expected PostgreSQL');
  const before = await postgresConnections();
  const config = loadConfig({
    JWT_KEY: TEST_JWT_KEY,
    WORKER_HEALTH_PORT: '0',
    DATABASE_URL: db.config.url,
    NATS_URL: `nats://127.0.0.1:${clientPort}`,
    TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}`, // nothing listens there
  });

  await expect(startWorker(config, pino({ level: 'silent' }))).rejects.toThrow('Could not connect to Temporal');

  // It did get as far as the database (it migrated it) and NATS (it created the stream) ...
  expect(await db.store.tickets.find('none')).toBeUndefined();
  const streams = await fetch(`http://127.0.0.1:${monitorPort}/jsz?streams=true`);
  expect(JSON.stringify(await streams.json())).toContain('"name":"ticketing"');
  // ... and let both go again.
  await eventually(async () => ((await natsConnections()) === 0 ? true : undefined), 'NATS connections closed');
  await eventually(
    async () => ((await postgresConnections()) <= before ? true : undefined),
    'PostgreSQL connections closed',
  );
});
