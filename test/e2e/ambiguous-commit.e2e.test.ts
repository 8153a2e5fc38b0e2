/**
 * Invariant 1 when recording an order fails after its commit (a connection lost after COMMIT, or
 * a hook that throws once the transaction is done): the order may exist, so its workflow, the only
 * thing that will end it, must stay. Real Temporal dev server and real SQLite; the failure after
 * the commit comes from the store's own after-commit hook.
 */
import { Client, Connection } from '@temporalio/client';
import pino from 'pino';
import { openStore, type Store } from '../../src/store';
import { temporalOrderWorkflows } from '../../src/temporal/order-workflows';
import { orderWorkflowId } from '../../src/workflows/shared';
import { listen, type Requester } from '../support/api';
import { sessionCookieForUser } from '../support/auth';
import { sqliteStore, type TestDatabase } from '../support/database';
import { newId } from '../support/orders';
import { appOver, orderServiceOver } from '../support/service';

const logger = pino({ level: 'silent' });
let db: TestDatabase;
let store: Store;
let temporal: Client;
let request: Requester;
let close: () => Promise<void>;
const cookie = sessionCookieForUser(newId());

beforeAll(async () => {
  db = await sqliteStore();
  // The same database, through a store whose after-commit hook fails: the commit has happened.
  store = await openStore(db.config, logger, {
    orderPlaced: () => {
      throw new Error('metrics exporter failed after the commit');
    },
  });
  temporal = new Client({ connection: await Connection.connect({ address: process.env.TEST_TEMPORAL_ADDRESS }) });
  const workflows = temporalOrderWorkflows(temporal, `orders-ambiguous-${newId()}`); // no worker: it stays running
  const service = orderServiceOver(store, workflows, logger);
  ({ request, close } = await listen(appOver(store, service, logger)));
});

afterAll(async () => {
  await close?.();
  await store?.close();
  await temporal?.connection.close();
  await db?.cleanup();
});

test('when recording fails after the commit, then 503 says the outcome is unknown, the order exists, and its workflow keeps running', async () => {
  const ticket = { id: newId(), title: 'ambiguous', price: 5, version: 0 };
  await db.store.tickets.upsert(ticket);

  const res = await request('POST', '/api/orders', { headers: { cookie }, body: { ticketId: ticket.id } });
  expect(res.status).toBe(503);
  expect(res.body).toEqual({ errors: [{ message: expect.stringContaining('may or may not have been recorded') }] });
  expect(res.body).toEqual({ errors: [{ message: expect.stringContaining('Retrying is safe') }] });

  const mine = (await request('GET', '/api/orders', { headers: { cookie } })).body as Array<{ id: string }>;
  expect(mine).toHaveLength(1);
  const described = await temporal.workflow.getHandle(orderWorkflowId(mine[0]!.id)).describe();
  expect(described.status.name).toBe('RUNNING');
});
