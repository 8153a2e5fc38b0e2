/**
 * One trace per order (OpenTelemetry), on the real servers: the API and the worker in-process, both
 * exporting to an in-memory exporter. An order that expires is one trace, from the POST to the
 * events its expiry publishes, and those events carry it on NATS (`traceparent`); a payment that
 * comes with a `traceparent` is handled in its sender's trace. Nothing sleeps: it waits for spans and
 * messages to appear.
 */
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { SpanKind } from '@opentelemetry/api';
import { headers as natsHeaders } from 'nats';
import { eventually } from '../../scripts/lib/eventually';
import { ticketThenOrder } from '../../scripts/lib/ticketing';
import { traceContext } from '../../src/logger';
import { orderWorkflowId } from '../../src/workflows/shared';
import { postOrder } from '../support/api';
import { sessionCookieForUser } from '../support/auth';
import { capturingLogger } from '../support/logs';
import { CoreNatsPeer, type RecordedMessage } from '../support/nats';
import { newId } from '../support/orders';
import { startSystem, type TestSystem } from '../support/system';

const exporter = new InMemorySpanExporter();
// The processes' own mixin (logger.ts): the active span's ids on each line.
const { logger, lines } = capturingLogger('info', { mixin: traceContext });
let system: TestSystem;
let peer: CoreNatsPeer;
/** What a core NATS subscriber (another service) receives, with the trace header. */
let received: RecordedMessage[] = [];
const cookie = sessionCookieForUser(newId());

beforeAll(async () => {
  system = await startSystem({ database: 'sqlite', expirationSeconds: 2, spanExporter: exporter, logger });
  peer = await CoreNatsPeer.connect(system.config.nats.url);
  received = peer.record(['order:created', 'expiration:complete', 'order:cancelled', 'order:updated']).messages;
});

afterAll(async () => {
  await peer?.close();
  await system?.stop();
});

const spans = () => exporter.getFinishedSpans();
const named = (trace: ReadableSpan[], name: string) => trace.filter((s) => s.name === name);
const traceOf = (traceId: string) => spans().filter((s) => s.spanContext().traceId === traceId);
const ms = ([seconds, nanos]: [number, number]) => seconds * 1000 + nanos / 1e6;

/** Whether `ancestor` is `span` or one of its parents, following parent span ids within the trace. */
function descends(span: ReadableSpan, ancestor: ReadableSpan, trace: ReadableSpan[]): boolean {
  const byId = new Map(trace.map((s) => [s.spanContext().spanId, s]));
  for (let s: ReadableSpan | undefined = span; s; s = s.parentSpanId ? byId.get(s.parentSpanId) : undefined) {
    if (s === ancestor) return true;
  }
  return false;
}

/** The one span of that name in the trace whose attribute `key` is `value` (any, without a key). */
function one(trace: ReadableSpan[], name: string, key?: string, value?: unknown): ReadableSpan | undefined {
  const found = named(trace, name).filter((s) => key === undefined || s.attributes[key] === value);
  return found.length === 1 ? found[0] : undefined;
}

test('when an order expires, then one trace holds its POST, workflow, expiry and published events, which carry it', async () => {
  const { reply } = await ticketThenOrder(peer.publish, postOrder(system.request, cookie));
  expect(reply.status).toBe(201);
  const orderId = (reply.body as { id: string }).id;
  const workflowId = orderWorkflowId(orderId);

  const cancelled = await eventually(
    async () => received.find((m) => m.subject === 'order:cancelled' && m.data.id === orderId),
    'order:cancelled of the expired order',
  );
  const expired = received.find((m) => m.subject === 'expiration:complete' && m.data.orderId === orderId);
  expect(expired).toBeDefined();

  // The workflow's start carries the order's workflow id; its trace is the order's.
  const start = await eventually(
    async () =>
      spans().find((s) => s.name === 'StartWorkflow:orderWorkflow' && s.attributes.temporalWorkflowId === workflowId),
    'the workflow start span',
  );
  const traceId = start.spanContext().traceId;
  const trace = await eventually(async () => {
    const t = traceOf(traceId);
    const wanted = [
      one(t, 'RunWorkflow:orderWorkflow'),
      one(t, 'RunActivity:expireOrder'),
      one(t, 'publish expiration:complete'),
      one(t, 'publish order:cancelled'),
    ];
    return wanted.every(Boolean) ? t : undefined;
  }, 'the workflow, expiry and publish spans in the order trace');

  const post = trace.find((s) => s.kind === SpanKind.SERVER && s.attributes['http.method'] === 'POST');
  expect(post?.name).toBe('POST /api/orders');
  expect(post?.attributes['http.route']).toBe('/api/orders');
  expect(post).toBeDefined();
  expect(post!.parentSpanId).toBeUndefined(); // the trace's root: the client sent no traceparent
  const run = one(trace, 'RunWorkflow:orderWorkflow')!;
  const expiry = one(trace, 'RunActivity:expireOrder')!;
  const publishedExpiration = one(trace, 'publish expiration:complete')!;
  const publishedCancel = one(trace, 'publish order:cancelled')!;

  // Causal order: each is a descendant of the one before, and starts no earlier.
  const chain = [post!, start, run, expiry, publishedExpiration];
  for (let i = 1; i < chain.length; i += 1) {
    expect({
      span: chain[i]!.name,
      descendsFrom: chain[i - 1]!.name,
      ok: descends(chain[i]!, chain[i - 1]!, trace),
    }).toEqual({ span: chain[i]!.name, descendsFrom: chain[i - 1]!.name, ok: true });
    expect(ms(chain[i]!.startTime)).toBeGreaterThanOrEqual(ms(chain[i - 1]!.startTime));
  }
  expect(descends(publishedCancel, expiry, trace)).toBe(true);
  expect(ms(publishedCancel.startTime)).toBeGreaterThanOrEqual(ms(publishedExpiration.startTime));
  expect(publishedCancel.kind).toBe(SpanKind.PRODUCER);
  expect(publishedCancel.attributes).toMatchObject({
    'messaging.system': 'nats',
    'messaging.destination.name': 'order:cancelled',
    'messaging.message.id': expect.any(String),
  });

  // What another service receives: the trace, and the producer span as the parent to continue from.
  const parentOf = (traceparent: string | undefined) => traceparent?.split('-');
  expect(parentOf(cancelled.traceparent)?.[1]).toBe(traceId);
  expect(parentOf(cancelled.traceparent)?.[2]).toBe(publishedCancel.spanContext().spanId);
  expect(parentOf(expired!.traceparent)?.[1]).toBe(traceId);
  expect(parentOf(expired!.traceparent)?.[2]).toBe(publishedExpiration.spanContext().spanId);
  // order:created, published from the POST, is in the trace too.
  const created = received.find((m) => m.subject === 'order:created' && m.data.id === orderId);
  expect(parentOf(created?.traceparent)?.[1]).toBe(traceId);
});

test('when payment:created comes with a traceparent, then it is handled in that trace', async () => {
  const { reply } = await ticketThenOrder(peer.publish, postOrder(system.request, cookie));
  expect(reply.status).toBe(201);
  const orderId = (reply.body as { id: string }).id;

  // The payments service's span, as its traceparent header says.
  const paymentsTraceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  const paymentsSpanId = '00f067aa0ba902b7';
  const h = natsHeaders();
  h.set('traceparent', `00-${paymentsTraceId}-${paymentsSpanId}-01`);
  peer.nc.publish('payment:created', JSON.stringify({ id: newId(), orderId, stripeId: 'ch_traced' }), {
    headers: h,
  });
  await peer.nc.flush();

  const consumed = await eventually(
    async () => traceOf(paymentsTraceId).find((s) => s.name === 'process payment:created'),
    'the consumer span of payment:created in the payments trace',
  );
  expect(consumed.kind).toBe(SpanKind.CONSUMER);
  expect(consumed.parentSpanId).toBe(paymentsSpanId);
  // The order's workflow is told within it (the payment came in time): Temporal's signal is in the trace.
  const signal = await eventually(
    async () => traceOf(paymentsTraceId).find((s) => s.name === 'SignalWorkflow:paymentReceived'),
    'the signal to the workflow in the payments trace',
  );
  expect(descends(signal, consumed, traceOf(paymentsTraceId))).toBe(true);
  // What the worker logged while handling it is in the trace too.
  expect(lines.find((l) => l.msg === 'payment decided' && l.orderId === orderId)).toMatchObject({
    trace_id: paymentsTraceId,
    span_id: consumed.spanContext().spanId,
  });
});
