/**
 * A new order that loses the race for its ticket (the database's unique index refuses it) has its
 * workflow discarded. If that workflow has already ended by then (its expiry ran, an operator
 * terminated it), there is nothing to end: the discard does nothing and says nothing. It used to
 * log "could not end the unused workflow" for it. Real Temporal dev server and real SQLite.
 */
import { Client, Connection } from '@temporalio/client';
import { place } from '../../src/orders/decisions';
import { TicketAlreadyReservedError } from '../../src/orders/errors';
import type { OrderWorkflows } from '../../src/orders/ports';
import { temporalOrderWorkflows } from '../../src/temporal/order-workflows';
import { orderWorkflowId } from '../../src/workflows/shared';
import { sqliteStore, type TestDatabase } from '../support/database';
import { capturingLogger } from '../support/logs';
import { newId } from '../support/orders';
import { orderServiceOver } from '../support/service';

let db: TestDatabase;
let temporal: Client;

beforeAll(async () => {
  db = await sqliteStore();
  temporal = new Client({ connection: await Connection.connect({ address: process.env.TEST_TEMPORAL_ADDRESS }) });
});

afterAll(async () => {
  await temporal?.connection.close();
  await db?.cleanup();
});

test('when an order loses its ticket to another and its workflow has already ended, then it is refused and nothing is logged', async () => {
  const ticket = { id: newId(), title: 'contested', price: 5, version: 0 };
  await db.store.tickets.upsert(ticket);
  const real = temporalOrderWorkflows(temporal, `orders-unused-${newId()}`); // no worker: a workflow ends only when ended
  let started = '';
  const workflows: OrderWorkflows = {
    ...real,
    // Between this order's start and its record, another order takes the ticket, and this one's workflow ends.
    async start(order) {
      await real.start(order);
      started = order.orderId;
      const other = { ...order, orderId: newId(), userId: newId() };
      await db.store.orders.record(place(other, new Date().toISOString(), ticket.version));
      await temporal.workflow.getHandle(orderWorkflowId(order.orderId)).terminate('ended before its discard');
    },
  };
  const { logger, lines } = capturingLogger();
  const service = orderServiceOver(db.store, workflows, logger);

  await expect(service.placeOrder(newId(), ticket.id)).rejects.toBeInstanceOf(TicketAlreadyReservedError);

  expect(lines).toEqual([]);
  const ended = await temporal.workflow.getHandle(orderWorkflowId(started)).describe();
  expect(ended.status.name).toBe('TERMINATED');
  // And the adapter alone: discarding it again neither throws nor does anything.
  await expect(real.discard(started, 'again')).resolves.toBeUndefined();
});
