import { isSpanContextValid, trace } from '@opentelemetry/api';
import pino, { type Logger } from 'pino';
import type { Config } from './config';

export type { Logger };

/**
 * One structured (JSON) logger per process. `LOG_FORMAT=pretty` (set by `npm run dev`) prints
 * readable lines instead, through pino-pretty.
 */
export function createLogger(name: string, { level, format }: Config['log']): Logger {
  return pino({
    name,
    level,
    mixin: traceContext,
    ...(format === 'pretty'
      ? {
          transport: {
            target: 'pino-pretty',
            options: { colorize: true, ignore: 'pid,hostname', translateTime: 'HH:MM:ss.l' },
          },
        }
      : { base: { pid: process.pid } }),
  });
}

/**
 * The active span's ids on every line logged within it (a request, an activity, an event handled), so
 * that a trace and its logs find each other. Without a tracing SDK there is never an active span.
 */
export function traceContext(): { trace_id?: string; span_id?: string } {
  const span = trace.getActiveSpan()?.spanContext();
  return span && isSpanContextValid(span) ? { trace_id: span.traceId, span_id: span.spanId } : {};
}
