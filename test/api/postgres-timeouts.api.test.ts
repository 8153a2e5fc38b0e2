/**
 * PostgreSQL that does not answer in time: every wait of the pool ends (DATABASE_CONNECT_TIMEOUT_MS
 * for a connection, DATABASE_STATEMENT_TIMEOUT_MS for a statement, a second more for its answer),
 * and the request is 503 in the error shape, never a hang or a 500. The API runs in-process over a
 * real PostgreSQL database reached through a TCP proxy that the test holds or cuts; Temporal is a
 * fake here (no request below reaches it). Nothing sleeps a fixed time.
 */
import { Client } from 'pg';
import pino from 'pino';
import { eventually } from '../../scripts/lib/eventually';
import { startTcpProxy, type TcpProxy } from '../../scripts/lib/tcp-proxy';
import type { OrderWorkflows } from '../../src/orders/ports';
import { createStore, type Store } from '../../src/store';
import { openDatabase } from '../../src/store/database';
import { listen, type Requester } from '../support/api';
import { sessionCookieForUser } from '../support/auth';
import { postgresStore, type TestDatabase } from '../support/database';
import { newId } from '../support/orders';
import { appOver, orderServiceOver } from '../support/service';

const TIMEOUTS = { connectMs: 500, statementMs: 500 };
/** pg's query_timeout: the statement timeout and a second (src/store/database.ts). */
const ANSWER_MS = TIMEOUTS.statementMs + 1000;
/** The request's own work and a busy machine, on top of a timeout. */
const SLACK_MS = 1500;
const busy = { status: 503, body: { errors: [{ message: 'A dependency is busy or unavailable; try again' }] } };

const workflows: OrderWorkflows = {
  start: () => Promise.resolve(),
  discard: () => Promise.resolve(),
  notifyCancelled: () => Promise.resolve(),
  extendHold: () => Promise.resolve(),
  signalPayment: () => Promise.resolve(true),
};

let db: TestDatabase;
let proxy: TcpProxy;
let store: Store;
let request: Requester;
let close: () => Promise<void>;
const cookie = sessionCookieForUser(newId());

beforeAll(async () => {
  db = await postgresStore();
  if (db.config.kind !== 'postgres') throw new Error('expected PostgreSQL');
  const url = new URL(db.config.url);
  proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port) });
  url.port = String(proxy.port);
  const logger = pino({ level: 'silent' });
  const { db: proxied, kind } = openDatabase({ kind: 'postgres', url: url.toString(), timeouts: TIMEOUTS }, logger);
  store = createStore(proxied, kind);
  ({ request, close } = await listen(appOver(store, orderServiceOver(store, workflows, logger), logger)));
});

afterEach(() => {
  // PostgreSQL reachable again: held connections dropped, new ones let through
  proxy?.cut();
  proxy?.restore();
});

afterAll(async () => {
  await close?.();
  await store?.close();
  await proxy?.close();
  await db?.cleanup();
});

/** GET /api/orders and how long its answer took; one still unanswered long after every timeout fails. */
async function listOrders() {
  const started = Date.now();
  const reply = await request('GET', '/api/orders', {
    headers: { cookie },
    signal: AbortSignal.timeout(ANSWER_MS + 4 * SLACK_MS),
  });
  return { reply, ms: Date.now() - started };
}
const answered = async () => ((await listOrders()).reply.status === 200 ? true : undefined);

// First: the pool has opened no connection yet.
test('when PostgreSQL does not answer a new connection, then the request is 503 once DATABASE_CONNECT_TIMEOUT_MS has passed', async () => {
  proxy.freeze();

  const { reply, ms } = await listOrders();

  expect(reply).toEqual(busy);
  expect(ms).toBeGreaterThanOrEqual(TIMEOUTS.connectMs - 50);
  expect(ms).toBeLessThan(TIMEOUTS.connectMs + SLACK_MS);
});

test('when a statement runs past DATABASE_STATEMENT_TIMEOUT_MS, then the server cancels it, the request is 503, and the next one is answered', async () => {
  await eventually(answered, 'the API to read PostgreSQL');
  // Another session holds the orders table: the API's read waits for it.
  const holder = new Client({ connectionString: db.config.kind === 'postgres' ? db.config.url : '' });
  await holder.connect();
  try {
    await holder.query('BEGIN');
    await holder.query('LOCK TABLE orders IN ACCESS EXCLUSIVE MODE');

    const { reply, ms } = await listOrders();

    expect(reply).toEqual(busy);
    expect(ms).toBeGreaterThanOrEqual(TIMEOUTS.statementMs - 50);
    expect(ms).toBeLessThan(TIMEOUTS.statementMs + SLACK_MS);
  } finally {
    await holder.query('ROLLBACK');
    await holder.end();
  }
  expect((await listOrders()).reply).toEqual({ status: 200, body: [] });
});

test('when the answers stop on an open connection, then the request is 503 soon after the statement timeout, and that connection is closed, not handed to the next request', async () => {
  await eventually(answered, 'the API to read PostgreSQL'); // the pool holds an open connection

  proxy.freeze();
  const { reply, ms } = await listOrders();

  expect(reply).toEqual(busy);
  expect(ms).toBeLessThan(ANSWER_MS + SLACK_MS);
  // New connections flow again, the held one stays held: only a closed one lets the next request through.
  proxy.restore();
  expect((await listOrders()).reply).toEqual({ status: 200, body: [] });
});
