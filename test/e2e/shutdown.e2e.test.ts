/**
 * Graceful shutdown, as an orchestrator's SIGTERM exercises it (process.ts calls these same
 * `stop()`s): the worker finishes the activity it is running before it exits, and the API
 * answers the request it is serving. On PostgreSQL, whose row locks let the test hold a
 * change half-way (a lock on the order's row, or an uncommitted order for the same ticket),
 * on the real Temporal dev server and nats-server.
 */
import { Client, Connection } from '@temporalio/client';
import pino from 'pino';
import { Client as PgClient } from 'pg';
import { PAYMENTS_CONSUMER } from '../../src/events/payments-consumer';
import { startWorker } from '../../src/worker';
import { orderWorkflowId, type OrderState } from '../../src/workflows/shared';
import { postOrder } from '../support/api';
import { sessionCookieForUser } from '../support/auth';
import { eventually } from '../../scripts/lib/eventually';
import { ticketThenOrder } from '../../scripts/lib/ticketing';
import { CoreNatsPeer, type Recorder } from '../support/nats';
import { newId } from '../support/orders';
import { stepsIn } from '../support/workflow-history';
import { startSystem, type TestSystem } from '../support/system';

let system: TestSystem;
let peer: CoreNatsPeer;
let events: Recorder;
let temporal: Client;
/** Sessions of the test's own on the service's database: one holds locks, one watches who waits on them. */
let other: PgClient;
let watcher: PgClient;
const cookie = sessionCookieForUser(newId());

beforeAll(async () => {
  system = await startSystem({ database: 'postgres', expirationSeconds: 2 });
  if (system.config.database.kind !== 'postgres') throw new Error('expected PostgreSQL');
  other = new PgClient({ connectionString: system.config.database.url });
  watcher = new PgClient({ connectionString: system.config.database.url });
  await Promise.all([other.connect(), watcher.connect()]);
  peer = await CoreNatsPeer.connect(system.config.nats.url);
  events = peer.record(['order:cancelled', 'expiration:complete']);
  temporal = new Client({
    connection: await Connection.connect({ address: system.config.temporal.connection.address }),
  });
});

afterAll(async () => {
  events?.stop();
  await peer?.close();
  await other?.end();
  await watcher?.end();
  await temporal?.connection.close();
  await system?.stop();
});

/** Whether a session of the service waits on a lock now, running a statement that starts with `sql`. */
async function waitsOnLock(sql: string): Promise<boolean> {
  // (not the locking session: inside a transaction, pg_stat_activity keeps its first snapshot)
  const { rows } = await watcher.query(
    `SELECT 1 FROM pg_stat_activity
      WHERE datname = current_database() AND wait_event_type = 'Lock' AND query ILIKE $1`,
    [`${sql}%`],
  );
  return rows.length > 0;
}

/** Resolves once a session of the service waits on a lock, running a statement that starts with `sql`. */
async function someoneWaits(sql: string): Promise<void> {
  await eventually(
    async () => ((await waitsOnLock(sql)) ? true : undefined),
    `a statement "${sql}…" waiting on a lock`,
  );
}

/** How many pull requests each of the worker's consumers has waiting on the server: a running consumer keeps one. */
async function waitingPulls(): Promise<number[]> {
  const jsm = await peer.nc.jetstreamManager();
  const durables = ['orders-tickets', PAYMENTS_CONSUMER];
  const infos = await Promise.all(durables.map((d) => jsm.consumers.info(system.config.nats.stream, d)));
  return infos.map((i) => i.num_waiting);
}

/** Calls `stop` and tells whether it has finished, without waiting for it. */
function track(stop: () => Promise<void>): { done: () => boolean; finished: Promise<void> } {
  let done = false;
  const finished = stop().then(() => {
    done = true;
  });
  return { done: () => done, finished };
}

test('when the worker is stopped while an expiry activity waits on the database, then the activity finishes and its events go out before the worker exits', async () => {
  const { reply: res } = await ticketThenOrder(peer.publish, postOrder(system.request, cookie), {
    title: 'shutdown',
    price: 3,
  });
  expect(res.status).toBe(201);
  const order = res.body as { id: string };

  // Hold the order's row: at the deadline, the expiry activity's locking read waits on it.
  await other.query('BEGIN');
  await other.query('SELECT id FROM orders WHERE id = $1 FOR UPDATE', [order.id]);
  await someoneWaits('select * from "orders"');

  await eventually(async () => ((await waitingPulls()).every((n) => n > 0) ? true : undefined), 'consumers pulling');
  const handle = temporal.workflow.getHandle(orderWorkflowId(order.id));

  const stopping = track(() => system.worker.stop());
  // The stop is under way: the consumers, which it closes just before the Temporal worker, have
  // withdrawn their pulls. A worker that abandoned its activities would go on to exit from here.
  await eventually(async () => ((await waitingPulls()).every((n) => n === 0) ? true : undefined), 'consumers closed');
  // At that moment the expiry is still in flight (a local activity waiting on the row; its workflow
  // task started and not completed in Temporal's eyes), and the worker has not exited.
  expect(await waitsOnLock('select * from "orders"')).toBe(true);
  const history = async () => (await handle.fetchHistory()).events ?? [];
  expect(stepsIn(await history())).toEqual([]);
  expect(stopping.done()).toBe(false);

  await other.query('COMMIT');
  await stopping.finished;

  // The activity committed its change, and the relay published its events before the worker exited.
  const row = await other.query('SELECT status, version FROM orders WHERE id = $1', [order.id]);
  expect(row.rows[0]).toEqual({ status: 'cancelled', version: 1 });
  const outbox = await other.query(
    `SELECT subject, published_at IS NOT NULL AS published FROM outbox WHERE data LIKE $1 ORDER BY id`,
    [`%${order.id}%`],
  );
  expect(outbox.rows).toEqual([
    { subject: 'order:created', published: true },
    { subject: 'expiration:complete', published: true },
    { subject: 'order:cancelled', published: true },
  ]);
  expect(await events.waitFor('order:cancelled', (d) => d.id === order.id)).toMatchObject({ version: 1 });

  // Temporal recorded the expiry's result (its marker) before the worker exited: nothing is redone.
  expect(stepsIn(await history())).toEqual(['expireOrder']);

  // The next worker ends the workflow from there.
  const next = await startWorker(system.config, pino({ level: 'silent' }));
  try {
    expect(await (handle.result() as Promise<OrderState>)).toMatchObject({ status: 'cancelled', ending: 'expired' });
  } finally {
    await next.stop();
  }
});

test('when the API is stopped while a POST waits on the database, then that POST still gets its 201 and new requests are refused', async () => {
  // (the worker that copies tickets from NATS was stopped above: the ticket goes straight into the copy)
  const ticketId = newId();
  await system.db.store.tickets.upsert({ id: ticketId, title: 'shutdown', price: 3, version: 0 });

  // An uncommitted active order for the same ticket: the API's insert waits on the unique index.
  await other.query('BEGIN');
  await other.query(
    `INSERT INTO orders (id, user_id, ticket_id, status, expires_at, version, created_at)
     VALUES ($1, $2, $3, 'created', $4, 0, $4)`,
    [newId(), newId(), ticketId, new Date().toISOString()],
  );
  const pending = system.request('POST', '/api/orders', { headers: { cookie }, body: { ticketId } });
  let answered = false;
  void pending.finally(() => (answered = true)).catch(() => {}); // (awaited below, where a failure shows)
  await someoneWaits('insert into "orders"');

  const stopping = track(() => system.api.stop());
  // The stop is under way: the API takes no new request.
  await eventually(async () => {
    try {
      await system.request('GET', '/api/orders', { headers: { cookie } });
      return undefined; // still taking requests
    } catch {
      return true; // refused
    }
  }, 'the API to refuse new requests');
  // At that moment the POST it had accepted is still being served: its insert waits, it has no
  // answer yet, and the API has not stopped.
  expect(await waitsOnLock('insert into "orders"')).toBe(true);
  expect(answered).toBe(false);
  expect(stopping.done()).toBe(false);

  await other.query('ROLLBACK');
  const res = await pending;
  expect(res.status).toBe(201);
  expect(res.body).toMatchObject({ status: 'created', ticket: { id: ticketId } });
  await stopping.finished;

  await expect(system.request('GET', '/api/orders', { headers: { cookie } })).rejects.toThrow();
});
