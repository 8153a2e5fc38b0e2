/**
 * `Idempotency-Key` when the API process is killed (SIGKILL) between its workflow start and its
 * answer. The API runs as its own process and reaches the run's dev server through a TCP proxy
 * that holds the server's answers back: the start reaches Temporal (the workflow exists) but the
 * API never hears it, and is killed there. A new API process then gets the client's retry with the
 * same key: it takes the key over with a plan of its own, answers with the one order it makes, and
 * asks the first attempt's workflow to discard itself. On SQLite and on PostgreSQL.
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { eventually } from '../../scripts/lib/eventually';
import { freePort, stopChild, waitForPort } from '../../scripts/lib/servers';
import { startTcpProxy, type TcpProxy } from '../../scripts/lib/tcp-proxy';
import type { Order } from '../../src/orders/order';
import { discardSignal, orderWorkflowId } from '../../src/workflows/shared';
import { fullRequester } from '../support/api';
import { sessionCookieForUser } from '../support/auth';
import { spawnApiProcess } from '../support/api-process';
import { databases, type TestDatabase } from '../support/database';
import { newId } from '../support/orders';
import { signalsOf } from '../support/workflow-history';

let temporal: Client;
beforeAll(async () => {
  temporal = new Client({ connection: await Connection.connect({ address: process.env.TEST_TEMPORAL_ADDRESS }) });
});
afterAll(async () => {
  await temporal?.connection.close();
});

describe.each(databases)('when the API is killed mid-request on %s', (_engine, openStore) => {
  let db: TestDatabase;
  let proxy: TcpProxy;
  let dataDir: string;
  const processes: ChildProcess[] = [];

  beforeAll(async () => {
    db = await openStore();
    const [host, port] = process.env.TEST_TEMPORAL_ADDRESS!.split(':');
    proxy = await startTcpProxy({ host: host!, port: Number(port) });
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'orders-idempotency-'));
  });
  afterAll(async () => {
    for (const child of processes) await stopChild(child);
    await proxy?.close();
    await db?.cleanup();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  /** The API as deployed: its own process, over the test's database, reaching Temporal through the proxy. */
  async function startApiProcess(taskQueue: string): Promise<ReturnType<typeof fullRequester>> {
    const port = await freePort();
    const child = spawnApiProcess({
      PORT: String(port),
      TEMPORAL_ADDRESS: `127.0.0.1:${proxy.port}`,
      TEMPORAL_TASK_QUEUE: taskQueue, // no worker polls it: the workflow stays running to be seen
      ...(db.config.kind === 'postgres' ? { DATABASE_URL: db.config.url } : { DATA_DIR: path.dirname(db.config.file) }),
      IDEMPOTENCY_LEASE_SECONDS: '2',
      LOG_LEVEL: 'warn',
    });
    processes.push(child);
    await waitForPort(port, 'the API', 60_000);
    return fullRequester(`http://127.0.0.1:${port}`);
  }

  test("then the retry on a new process makes the key's one order, and the first attempt's workflow is told to go", async () => {
    const taskQueue = `orders-killed-${newId()}`;
    const ticket = { id: newId(), title: 'killed', price: 7, version: 0 };
    await db.store.tickets.upsert(ticket);
    const [cookie, key] = [sessionCookieForUser(newId()), newId()];
    const post = (api: ReturnType<typeof fullRequester>, signal?: AbortSignal) =>
      api('POST', '/api/orders', {
        headers: { cookie, 'idempotency-key': key },
        body: { ticketId: ticket.id },
        ...(signal ? { signal } : {}),
      });

    const first = await startApiProcess(taskQueue);
    proxy.freeze(); // Temporal gets the start; its answer is held back
    const lost = new AbortController();
    const firstTry = post(first, lost.signal).catch(() => 'no answer');

    // The key's plan names the order; once its workflow exists, the start has reached Temporal.
    const plan = await eventually(async () => {
      const row = await db.store.db
        .selectFrom('idempotency_keys')
        .select(['order_id', 'status_code'])
        .where('key', '=', key)
        .executeTakeFirst();
      if (!row) return undefined;
      await temporal.workflow.getHandle(orderWorkflowId(row.order_id)).describe();
      return row;
    }, "the first attempt's workflow to start");
    expect(plan.status_code).toBeNull(); // no answer yet
    processes[0]!.kill('SIGKILL');
    lost.abort();
    expect(await firstTry).toBe('no answer');
    proxy.restore();

    const second = await startApiProcess(taskQueue);
    const retry = await eventually(async () => {
      const reply = await post(second);
      return reply.status === 409 ? undefined : reply; // until the killed attempt's lease ends
    }, 'the retry to be answered');
    expect(retry.status).toBe(201);
    const order = retry.body as Order;
    expect(order.id).not.toBe(plan.order_id); // a plan of its own: never an id the dead attempt may still use
    expect((await second('GET', '/api/orders', { headers: { cookie } })).body).toEqual([order]);
    expect((await temporal.workflow.getHandle(orderWorkflowId(order.id)).describe()).status.name).toBe('RUNNING');
    // No worker polls this queue: the discard waits in the history, where a worker would act on it.
    expect(await signalsOf(temporal, plan.order_id)).toEqual([discardSignal.name]);

    const again = await post(second);
    expect({ status: again.status, body: again.body }).toEqual({ status: 201, body: order });
    expect(again.headers.get('idempotent-replayed')).toBe('true');
  });
});
