/**
 * The API and the worker are two processes on one SQLite file, and take turns on its write lock.
 * A statement that meets the other's lock waits for it without stopping its own process: SQLite's
 * busy_timeout used to sleep inside the synchronous statement, so no request, health check or timer
 * of the waiting process ran for up to 5 s. Real SQLite files; the "other process" is a second
 * connection that holds the write lock.
 */
import SQLite from 'better-sqlite3';
import { isTransientDatabaseError } from '../../src/store/driver-errors';
import { sqliteStore, type TestDatabase } from '../support/database';
import { createActivities } from '../../src/activities';
import { eventually } from '../../scripts/lib/eventually';
import { newId, outboxSubjects, seedOrder } from '../support/orders';

let db: TestDatabase;
let other: SQLite.Database;

beforeEach(async () => {
  db = await sqliteStore();
  if (db.config.kind !== 'sqlite') throw new Error('a SQLite store');
  other = new SQLite(db.config.file);
});
afterEach(async () => {
  other?.close();
  await db?.cleanup();
});

const ticket = () => ({ id: newId(), title: 'contended', price: 5, version: 0 });
const settled = (p: Promise<unknown>) => {
  const state = { done: false };
  p.then(
    () => (state.done = true),
    () => (state.done = true),
  );
  return state;
};

test('when the other process holds the write lock, then a write waits for it while the event loop goes on, and lands once the lock is free', async () => {
  other.exec('BEGIN IMMEDIATE');
  const t = ticket();
  const write = db.store.tickets.upsert(t);
  const state = settled(write);

  // Timers run while the write waits: with a synchronous busy wait this callback came only after
  // the write had given up (SQLITE_BUSY), 5 s later.
  for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(state.done).toBe(false);

  other.exec('COMMIT');
  await write;
  expect(other.prepare('select id from tickets where id = ?').get(t.id)).toEqual({ id: t.id });
});

test('when a reminder waits for the lock past its deadline, then it is judged at its decision, after the wait: nothing goes out late', async () => {
  const order = await seedOrder(db.store, Date.now(), 400); // its deadline is 400 ms away
  const activities = createActivities({ orders: db.store.orders, payments: { consumedUntil: async () => true } });
  other.exec('BEGIN IMMEDIATE');
  const reminding = activities.remindExpiring(order, order.expiresAt); // asked in time, by the clock before the wait
  await eventually(async () => (Date.now() > Date.parse(order.expiresAt) ? true : undefined), 'the deadline to pass');
  other.exec('COMMIT');

  expect(await reminding).toEqual({ reminded: false });
  expect(await outboxSubjects(db.store, order.orderId)).toEqual(['order:created']);
});

test('when the lock is never freed, then the write fails in time as a transient error (a 503, an activity retried)', async () => {
  other.exec('BEGIN IMMEDIATE');
  const failed = await db.store.tickets.upsert(ticket()).catch((err: unknown) => err);
  other.exec('ROLLBACK');
  expect((failed as { code?: string }).code).toMatch(/^SQLITE_BUSY/);
  expect(isTransientDatabaseError(failed)).toBe(true);
});
