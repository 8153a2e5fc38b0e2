import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { migrateToLatest, openDatabase } from '../../src/store/database';
import { OrderStore } from '../../src/store/order-store';

/** A real SQLite database in a fresh temporary folder, migrated. */
export async function sqliteStore(
  onEventsWritten?: () => void,
): Promise<{ store: OrderStore; file: string; cleanup(): Promise<void> }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orders-db-'));
  const file = path.join(dir, 'orders.sqlite');
  const { db, kind } = openDatabase({ kind: 'sqlite', file });
  await migrateToLatest(db, kind);
  const store = new OrderStore(db, onEventsWritten);
  return {
    store,
    file,
    cleanup: async () => {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
