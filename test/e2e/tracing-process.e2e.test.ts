/**
 * Tracing in the API as deployed: its own process (its main, with Node's own module loader), spans
 * exported to Zipkin's intake (`OTEL_TRACES_EXPORTER=zipkin`, here a stand-in that records what it is
 * sent). A POST is one trace of the HTTP server span and the workflow's start under it, and the
 * batched spans reach the intake when the process stops (SIGTERM flushes them).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { track } from '../../scripts/lib/process-registry';
import { freePort, ROOT, waitForPort } from '../../scripts/lib/servers';
import { openStore } from '../../src/store';
import { requester } from '../support/api';
import { sessionCookieForUser, TEST_JWT_KEY } from '../support/auth';
import { newId } from '../support/orders';

interface ZipkinSpan {
  traceId: string;
  id: string;
  parentId?: string;
  name: string;
  kind?: string;
  localEndpoint?: { serviceName?: string };
  tags?: Record<string, string>;
}

test('when the API process runs with OTEL_TRACES_EXPORTER=zipkin, then a POST is one trace that reaches Zipkin on stop', async () => {
  const received: ZipkinSpan[] = [];
  const intake = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/api/v2/spans') received.push(...(JSON.parse(body) as ZipkinSpan[]));
      res.writeHead(202).end();
    });
  });
  await new Promise<void>((resolve) => intake.listen(0, '127.0.0.1', resolve));
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'orders-tracing-'));
  try {
    const ticket = { id: newId(), title: 't', price: 1, version: 0 };
    const store = await openStore(
      { kind: 'sqlite', file: path.join(dataDir, 'orders.sqlite') },
      pino({ level: 'silent' }),
    );
    await store.tickets.upsert(ticket);
    await store.close();

    const apiPort = await freePort();
    let output = '';
    const api = spawn(process.execPath, ['--import', 'tsx', 'src/api/server.ts'], {
      cwd: ROOT,
      env: {
        ...process.env,
        JWT_KEY: TEST_JWT_KEY,
        PORT: String(apiPort),
        TEMPORAL_ADDRESS: process.env.TEST_TEMPORAL_ADDRESS,
        TEMPORAL_TASK_QUEUE: `orders-tracing-${newId()}`,
        DATA_DIR: dataDir,
        LOG_LEVEL: 'info',
        OTEL_TRACES_EXPORTER: 'zipkin',
        OTEL_EXPORTER_ZIPKIN_ENDPOINT: `http://127.0.0.1:${(intake.address() as AddressInfo).port}/api/v2/spans`,
        NODE_OPTIONS: [process.env.NODE_OPTIONS, '--no-deprecation'].filter(Boolean).join(' '),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    track(api, 'orders-api');
    api.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    api.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = once(api, 'exit');
    await waitForPort(apiPort, 'the API', 60_000);

    const reply = await requester(`http://127.0.0.1:${apiPort}`)('POST', '/api/orders', {
      headers: { cookie: sessionCookieForUser(newId()) },
      body: { ticketId: ticket.id },
    });
    expect({ status: reply.status, output: reply.status === 201 ? '' : output }).toEqual({ status: 201, output: '' });
    const orderId = (reply.body as { id: string }).id;

    api.kill('SIGTERM');
    const [code] = await exited;
    expect(code).toBe(0);

    const post = received.find((s) => s.kind === 'SERVER' && s.name === 'POST /api/orders');
    expect(post).toMatchObject({ localEndpoint: { serviceName: 'orders-api' }, tags: { 'http.route': '/api/orders' } });
    expect(post!.parentId).toBeUndefined();
    const start = received.find((s) => s.name === 'StartWorkflow:orderWorkflow');
    expect(start).toMatchObject({
      traceId: post!.traceId,
      parentId: post!.id,
      tags: { temporalWorkflowId: `order-${orderId}` },
    });
  } finally {
    intake.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});
