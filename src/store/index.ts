import type { Config } from '../config';
import type { Logger } from '../logger';
import { migrateToLatest, openDatabase, openMigrationDatabase } from './database';
import { ConsumerPositions } from './consumer-positions';
import { IdempotencyStore } from './idempotency';
import { OrderStore, type StoreHooks } from './orders';
import { OutboxStore } from './outbox';
import { PaymentsSetAside } from './payments-set-aside';
import type { DatabaseKind, Db } from './schema';
import { TicketStore } from './tickets';

export type { StoreHooks } from './orders';

/** Persistence of one process: tickets, orders, the outbox, idempotency keys and consumer positions over one database (a pool on PostgreSQL). */
export interface Store {
  db: Db;
  kind: DatabaseKind;
  tickets: TicketStore;
  orders: OrderStore;
  outbox: OutboxStore;
  idempotency: IdempotencyStore;
  consumerPositions: ConsumerPositions;
  paymentsSetAside: PaymentsSetAside;
  close(): Promise<void>;
}

export function createStore(db: Db, kind: DatabaseKind, hooks: StoreHooks = {}): Store {
  return {
    db,
    kind,
    tickets: new TicketStore(db),
    orders: new OrderStore(db, kind, hooks),
    outbox: new OutboxStore(db, kind),
    idempotency: new IdempotencyStore(db, kind),
    consumerPositions: new ConsumerPositions(db),
    paymentsSetAside: new PaymentsSetAside(db),
    close: () => db.destroy(),
  };
}

/** Opens the configured database, brings its schema up to date, and returns the store over it. */
export async function openStore(database: Config['database'], logger: Logger, hooks: StoreHooks = {}): Promise<Store> {
  const { db, kind } = openDatabase(database, logger);
  // PostgreSQL migrates over a connection of its own, without the statement timeout.
  const migrating = database.kind === 'postgres' ? openMigrationDatabase(database, logger) : db;
  try {
    const applied = await migrateToLatest(migrating, kind);
    if (applied.length > 0) logger.info({ applied }, 'database migrated');
  } catch (err) {
    await db.destroy();
    throw err;
  } finally {
    if (migrating !== db) await migrating.destroy();
  }
  return createStore(db, kind, hooks);
}
