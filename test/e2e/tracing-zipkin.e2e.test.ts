/**
 * Tracing against a real trace backend: Zipkin (the exec jar that `npm run dev -- --tracing` runs,
 * fetched by scripts/setup.sh), queried through its own HTTP API as a person's UI would read it.
 * 1. The API and the worker export with `OTEL_TRACES_EXPORTER=zipkin`; an order with a 3 s window
 *    expires; Zipkin then holds one trace with the POST, the workflow start, the workflow run, the
 *    expiry activity and the publishes of `expiration:complete` and `order:cancelled`, in causal
 *    order, and a NATS subscriber received the same trace id in `traceparent`.
 * 2. The API as deployed (its own process, Node's own module loader) sends its spans there too.
 */
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { eventually } from '../../scripts/lib/eventually';
import { freePort, startZipkin, waitForPort, zipkinUrls, type ServerProcess } from '../../scripts/lib/servers';
import { ticketThenOrder } from '../../scripts/lib/ticketing';
import { openStore } from '../../src/store';
import { requester, postOrder } from '../support/api';
import { sessionCookieForUser } from '../support/auth';
import { spawnApiProcess } from '../support/api-process';
import { CoreNatsPeer, type RecordedMessage } from '../support/nats';
import { newId } from '../support/orders';
import { startSystem, type TestSystem } from '../support/system';

/** A span as Zipkin's API v2 returns it (timestamps in microseconds; Zipkin lower-cases span names). */
interface ZipkinSpan {
  traceId: string;
  id: string;
  parentId?: string;
  name: string;
  kind?: string;
  timestamp: number;
  localEndpoint?: { serviceName?: string };
  tags?: Record<string, string>;
}

let zipkin: ServerProcess;
let urls: ReturnType<typeof zipkinUrls>;

beforeAll(async () => {
  const port = await freePort();
  zipkin = startZipkin({ port });
  urls = zipkinUrls(port);
  await waitForPort(port, 'Zipkin', 120_000, zipkin);
  await eventually(async () => ((await fetch(urls.health)).ok ? true : undefined), 'Zipkin to be up');
}, 150_000);

afterAll(async () => {
  await zipkin?.stop();
});

/** The trace as Zipkin serves it, once `ready` says it holds what the test waits for. */
const traceFromZipkin = (traceId: string, ready: (spans: ZipkinSpan[]) => boolean) =>
  eventually(
    async () => {
      const res = await fetch(`${urls.api}/trace/${traceId}`);
      if (!res.ok) return undefined;
      const spans = (await res.json()) as ZipkinSpan[];
      return ready(spans) ? spans : undefined;
    },
    `trace ${traceId} in Zipkin`,
    60_000,
  );

describe('an order that expires, with the API and the worker exporting to Zipkin', () => {
  let system: TestSystem;
  let peer: CoreNatsPeer;
  let received: RecordedMessage[] = [];

  beforeAll(async () => {
    system = await startSystem({
      database: 'sqlite',
      expirationSeconds: 3,
      env: { OTEL_TRACES_EXPORTER: 'zipkin', OTEL_EXPORTER_ZIPKIN_ENDPOINT: urls.spans },
    });
    peer = await CoreNatsPeer.connect(system.config.nats.url);
    received = peer.record(['expiration:complete', 'order:cancelled']).messages;
  });

  afterAll(async () => {
    await peer?.close();
    await system?.stop();
  });

  test('then Zipkin holds one trace from the POST to the published events, in causal order', async () => {
    const { reply } = await ticketThenOrder(peer.publish, postOrder(system.request, sessionCookieForUser(newId())));
    expect(reply.status).toBe(201);
    const orderId = (reply.body as { id: string }).id;
    const cancelled = await eventually(
      async () => received.find((m) => m.subject === 'order:cancelled' && m.data.id === orderId),
      'order:cancelled on NATS',
    );
    const expired = received.find((m) => m.subject === 'expiration:complete' && m.data.orderId === orderId);
    const traceId = cancelled.traceparent?.split('-')[1];
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(expired?.traceparent?.split('-')[1]).toBe(traceId);

    const wanted = [
      'post /api/orders',
      'startworkflow:orderworkflow',
      'runworkflow:orderworkflow',
      'runactivity:expireorder',
      'publish expiration:complete',
      'publish order:cancelled',
    ];
    const spans = await traceFromZipkin(traceId!, (t) => wanted.every((name) => t.some((s) => s.name === name)));
    const byName = (name: string) => spans.find((s) => s.name === name)!;
    const byId = new Map(spans.map((s) => [s.id, s]));
    const descends = (span: ZipkinSpan, ancestor: ZipkinSpan) => {
      for (let s: ZipkinSpan | undefined = span; s; s = s.parentId ? byId.get(s.parentId) : undefined)
        if (s.id === ancestor.id) return true;
      return false;
    };
    const post = byName('post /api/orders');
    expect(post.parentId).toBeUndefined(); // the root: the client sent no traceparent
    expect(post.kind).toBe('SERVER');
    // Causal order: each descends from the one before, and starts no earlier.
    const chain = wanted.slice(0, 5).map(byName);
    for (let i = 1; i < chain.length; i++) {
      expect([chain[i]!.name, descends(chain[i]!, chain[i - 1]!)]).toEqual([chain[i]!.name, true]);
      expect(chain[i]!.timestamp).toBeGreaterThanOrEqual(chain[i - 1]!.timestamp);
    }
    const publishCancel = byName('publish order:cancelled');
    expect(descends(publishCancel, byName('runactivity:expireorder'))).toBe(true);
    expect(publishCancel.kind).toBe('PRODUCER');
    expect(cancelled.traceparent?.split('-')[2]).toBe(publishCancel.id); // the producer span, to continue from
  });
});

test('when the API runs as its own process with OTEL_TRACES_EXPORTER=zipkin, then its POST is a trace in Zipkin', async () => {
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
    const api = spawnApiProcess({
      PORT: String(apiPort),
      TEMPORAL_ADDRESS: process.env.TEST_TEMPORAL_ADDRESS,
      TEMPORAL_TASK_QUEUE: `orders-tracing-${newId()}`,
      DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
      OTEL_TRACES_EXPORTER: 'zipkin',
      OTEL_EXPORTER_ZIPKIN_ENDPOINT: urls.spans,
    });
    const exited = once(api, 'exit');
    await waitForPort(apiPort, 'the API', 60_000);

    // The client's own trace, as `npm run demo` sends it: the API continues it.
    const traceId = newId().padEnd(32, '0').slice(0, 32);
    const reply = await requester(`http://127.0.0.1:${apiPort}`)('POST', '/api/orders', {
      headers: { cookie: sessionCookieForUser(newId()), traceparent: `00-${traceId}-${'1'.repeat(16)}-01` },
      body: { ticketId: ticket.id },
    });
    expect(reply.status).toBe(201);
    const orderId = (reply.body as { id: string }).id;
    api.kill('SIGTERM'); // stopping flushes the batched spans
    expect((await exited)[0]).toBe(0);

    const spans = await traceFromZipkin(traceId, (t) => t.some((s) => s.name === 'startworkflow:orderworkflow'));
    const post = spans.find((s) => s.name === 'post /api/orders');
    expect(post).toMatchObject({
      kind: 'SERVER',
      parentId: '1'.repeat(16),
      localEndpoint: { serviceName: 'orders-api' },
    });
    expect(spans.find((s) => s.name === 'startworkflow:orderworkflow')).toMatchObject({
      parentId: post!.id,
      tags: { temporalWorkflowId: `order-${orderId}` },
    });
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});
