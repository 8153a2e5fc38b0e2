import type { Order, OrderRecord } from '../orders/order';
import type { Db, OrderTable } from './schema';

/** Orders with their tickets, as the API shows them: tombstones are no orders. */
export function ordersWithTicket(db: Db) {
  return db
    .selectFrom('orders')
    .innerJoin('tickets', 'tickets.id', 'orders.ticket_id')
    .where('orders.tombstone', '=', 0)
    .select([
      'orders.id as id',
      'orders.user_id as userId',
      'orders.status as status',
      'orders.expires_at as expiresAt',
      'orders.version as version',
      'tickets.id as ticketId',
      'tickets.title as ticketTitle',
      'tickets.price as ticketPrice',
      'tickets.version as ticketVersion',
    ]);
}

type OrderRow = Awaited<ReturnType<ReturnType<typeof ordersWithTicket>['executeTakeFirstOrThrow']>>;

export function toOrder(row: OrderRow): Order {
  return {
    id: row.id,
    userId: row.userId,
    status: row.status,
    expiresAt: row.expiresAt,
    version: Number(row.version),
    ticket: {
      id: row.ticketId,
      title: row.ticketTitle,
      price: Number(row.ticketPrice),
      version: Number(row.ticketVersion),
    },
  };
}

/** A row as the store reads and writes it; `reservation_exempt` is only ever set by migration 0009. */
type StoredOrder = {
  [K in Exclude<keyof OrderTable, 'reservation_exempt'>]: K extends 'tombstone' | 'extensions' ? number : OrderTable[K];
};

export const toRecord = (row: StoredOrder): OrderRecord => ({
  id: row.id,
  userId: row.user_id,
  ticketId: row.ticket_id,
  status: row.status,
  expiresAt: row.expires_at,
  version: Number(row.version),
  paymentId: row.payment_id,
  createdAt: row.created_at,
  extensions: Number(row.extensions),
  ending: row.ending ?? null,
  tombstone: Number(row.tombstone) === 1,
});

export const toRow = (record: OrderRecord): StoredOrder => ({
  id: record.id,
  user_id: record.userId,
  ticket_id: record.ticketId,
  status: record.status,
  expires_at: record.expiresAt,
  version: record.version,
  payment_id: record.paymentId,
  created_at: record.createdAt,
  extensions: record.extensions,
  ending: record.ending,
  tombstone: record.tombstone ? 1 : 0,
});
