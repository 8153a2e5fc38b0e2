/**
 * What the API process writes while Temporal is unreachable: the API runs as its own process
 * (as deployed), reaching the run's dev server through a TCP proxy that the test cuts, and orders
 * are created meanwhile, so that the SDK's native core retries their starts and warns about it.
 * Every line it writes must be a JSON log line, and the core's warnings, one per gRPC retry, must
 * not flood the log: the first is logged, then how many more came. Before, the API had no SDK
 * runtime of its own, and the core wrote one line of coloured text per retry.
 */
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { openStore, type Store } from '../../src/store';
import { freePort, waitForPort } from '../../scripts/lib/servers';
import { requester } from '../support/api';
import { sessionCookieForUser } from '../support/auth';
import { spawnApiProcess } from '../support/api-process';
import { newId } from '../support/orders';
import { startTcpProxy, type TcpProxy } from '../../scripts/lib/tcp-proxy';

const ORDERS_IN_OUTAGE = 3;
let output = '';
let statuses: number[] = [];

/** Runs the scenario once; the tests read what the process wrote. */
beforeAll(async () => {
  const [host, port] = process.env.TEST_TEMPORAL_ADDRESS!.split(':');
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'orders-logs-'));
  let proxy: TcpProxy | undefined;
  let store: Store | undefined;
  try {
    proxy = await startTcpProxy({ host: host!, port: Number(port) });
    const apiPort = await freePort();
    const api = spawnApiProcess(
      {
        PORT: String(apiPort),
        TEMPORAL_ADDRESS: `127.0.0.1:${proxy.port}`,
        DATA_DIR: dataDir,
        LOG_LEVEL: 'info',
        LOG_FORMAT: 'json',
      },
      'pipe',
    );
    api.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    api.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = once(api, 'exit');
    await waitForPort(apiPort, 'the API', 60_000);

    store = await openStore({ kind: 'sqlite', file: path.join(dataDir, 'orders.sqlite') }, pino({ level: 'silent' }));
    const tickets = Array.from({ length: ORDERS_IN_OUTAGE }, () => ({ id: newId(), title: 't', price: 1, version: 0 }));
    for (const ticket of tickets) await store.tickets.upsert(ticket);

    proxy.cut();
    const request = requester(`http://127.0.0.1:${apiPort}`);
    const cookie = sessionCookieForUser(newId());
    const replies = await Promise.all(
      tickets.map((t) => request('POST', '/api/orders', { headers: { cookie }, body: { ticketId: t.id } })),
    );
    statuses = replies.map((r) => r.status);

    api.kill('SIGTERM');
    await exited;
  } finally {
    await store?.close();
    await proxy?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

afterAll(() => {
  if (process.env.TEST_LOG_LEVEL) console.log(output); // what the API wrote, to read
});

const lines = () => output.split('\n').filter((l) => l.trim() !== '');
const parsed = () => lines().map((l) => JSON.parse(l) as Record<string, unknown>);
const retryWarnings = () => parsed().filter((l) => /retried \d+ times/.test(String(l.msg)));

test('when Temporal is unreachable while orders are created, then every line the API writes is JSON, the core warnings too', () => {
  expect(statuses).toEqual(Array(ORDERS_IN_OUTAGE).fill(503));
  expect(lines().filter((l) => !l.startsWith('{'))).toEqual([]);
  expect(retryWarnings()[0]).toMatchObject({ level: 40, name: 'orders-api', component: 'temporal-sdk' });
});

test("when the core retries the orders' starts many times, then the log has the first warning and then a count of the rest", () => {
  expect(retryWarnings()).toHaveLength(1);
  const summary = parsed().find(
    (l) => l.msg === 'alike warnings held back since the first' && /retried \d+ times/.test(String(l.last)),
  );
  expect(summary).toMatchObject({ level: 40, component: 'temporal-sdk', withinMs: 60_000 });
  // Each start is retried several times before it gives up (the 503s above).
  expect(summary!.repeated).toBeGreaterThanOrEqual(ORDERS_IN_OUTAGE);
});
