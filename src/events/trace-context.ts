import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Span,
  type TextMapGetter,
} from '@opentelemetry/api';
import type { JsMsg, MsgHdrs } from 'nats';
import type { TraceContext } from '../store/outbox';

/**
 * Events and their traces: an event is published in the trace it was written in (a producer span,
 * child of the request's or the activity's span, whose context goes with it as the W3C `traceparent`
 * header), and an incoming event with a `traceparent` is handled in a consumer span of that trace.
 * Without a tracing SDK the spans do nothing; an event that was written with a trace still carries it.
 */
const TRACER = 'orders-lifecycle/events';

const attributes = (subject: string, operation: 'publish' | 'process', msgId?: string) => ({
  'messaging.system': 'nats',
  'messaging.destination.name': subject,
  'messaging.operation.type': operation,
  'messaging.operation.name': operation,
  ...(msgId ? { 'messaging.message.id': msgId } : {}),
});

/** Runs `publish` in a producer span of the event's trace, with the headers that carry that span on. */
export function inProducerSpan<T>(
  event: { subject: string; msgId: string; trace?: TraceContext },
  publish: (headers: Partial<TraceContext>) => Promise<T>,
): Promise<T> {
  const parent = event.trace ? propagation.extract(ROOT_CONTEXT, event.trace) : ROOT_CONTEXT;
  return trace
    .getTracer(TRACER)
    .startActiveSpan(
      `publish ${event.subject}`,
      { kind: SpanKind.PRODUCER, attributes: attributes(event.subject, 'publish', event.msgId) },
      parent,
      (span) => {
        const headers: Partial<TraceContext> = {};
        propagation.inject(context.active(), headers);
        // No SDK (so no propagator): the context the event was written in goes on as it was.
        if (!headers.traceparent && event.trace) Object.assign(headers, event.trace);
        return ended(span, () => publish(headers));
      },
    );
}

const headerGetter: TextMapGetter<MsgHdrs | undefined> = {
  keys: (headers) => (headers ? headers.keys() : []),
  get: (headers, key) => (headers?.has(key) ? headers.get(key) : undefined),
};

/** Runs `handle` in a consumer span, a child of the message's `traceparent` when it has one. */
export function inConsumerSpan<T>(msg: JsMsg, handle: () => Promise<T>): Promise<T> {
  const parent = propagation.extract(ROOT_CONTEXT, msg.headers, headerGetter);
  return trace
    .getTracer(TRACER)
    .startActiveSpan(
      `process ${msg.subject}`,
      { kind: SpanKind.CONSUMER, attributes: { ...attributes(msg.subject, 'process'), 'nats.stream.seq': msg.seq } },
      parent,
      (span) => ended(span, handle),
    );
}

async function ended<T>(span: Span, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    span.recordException(err as Error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
    throw err;
  } finally {
    span.end();
  }
}
