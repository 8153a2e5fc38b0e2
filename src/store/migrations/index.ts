import type { MigrationProvider } from 'kysely';
import type { DatabaseKind } from '../schema';
import { ordersAndOutboxMigrations } from './0001-0003-orders-and-outbox';
import { holdsAndLimitsMigrations } from './0004-0006-holds-and-limits';
import { outboxRelayMigrations } from './0007-0008-outbox-relays';
import { soldTicketMigrations } from './0009-sold-ticket';
import { paymentsAndPositionsMigrations } from './0010-0012-payments-and-positions';

/**
 * Migrations live in code (not files read at run time) so that they ship inside `dist/`.
 * Add a new entry for every change; never edit one that has been released.
 */
export function migrationProvider(kind: DatabaseKind): MigrationProvider {
  const migrations = {
    ...ordersAndOutboxMigrations(kind),
    ...holdsAndLimitsMigrations(kind),
    ...outboxRelayMigrations,
    ...soldTicketMigrations,
    ...paymentsAndPositionsMigrations,
  };
  return { getMigrations: () => Promise.resolve(migrations) };
}
