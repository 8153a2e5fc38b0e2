import type { ConsumerMessages, JsMsg } from 'nats';
import type { z } from 'zod';
import type { Logger } from '../logger';
import { eventsRejected } from '../metrics';
import type { Subject } from '../orders/catalogue';
import type { PositionLog } from './consumer-positions';
import { superviseConsumer, type RunningConsumer } from './consumer-supervisor';
import type { EventBus } from './jetstream';
import { inConsumerSpan } from './trace-context';

/** What a handler decides about a message: done, or not yet (it comes again after `retryInMs`). */
export type Outcome = { ack: true } | { ack: false; retryInMs: number; reason: string };
export const done: Outcome = { ack: true };
export const later = (reason: string, retryInMs = 1000): Outcome => ({ ack: false, retryInMs, reason });

export interface Handler<T = unknown> {
  schema: z.ZodType<T>;
  handle(data: T, msg: JsMsg): Promise<Outcome>;
}
export const handler = <T>(schema: z.ZodType<T>, handle: Handler<T>['handle']): Handler<T> => ({ schema, handle });

const NOT_JSON = Symbol('not JSON');

export type { RunningConsumer };

/**
 * Consumes a durable JetStream consumer, one message at a time. A handler that throws
 * (a dependency is down) gets the message again with back-off; a payload that does not
 * parse is terminated and logged with its content, since no retry can fix it. If consuming
 * itself stops (the consumer was deleted, say), it is logged and started again (consumer-supervisor.ts).
 */
export async function runConsumer(
  bus: EventBus,
  durable: string,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each handler has its own payload type
  handlers: Partial<Record<Subject, Handler<any>>>,
  logger: Logger,
  positions?: PositionLog,
): Promise<RunningConsumer> {
  const log = logger.child({ consumer: durable });
  return superviseConsumer(bus, durable, Object.keys(handlers), log, consumeWith(handlers, log), positions);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each handler has its own payload type
function consumeWith(handlers: Partial<Record<Subject, Handler<any>>>, log: Logger) {
  return async (messages: ConsumerMessages, consuming: () => void): Promise<void> => {
    for await (const msg of messages) {
      consuming();
      const h = handlers[msg.subject as Subject] as Handler | undefined;
      const ctx = { subject: msg.subject, seq: msg.seq, redelivered: msg.info.redeliveryCount };
      let data: unknown = NOT_JSON;
      try {
        data = JSON.parse(msg.string());
      } catch {
        // counted and logged below
      }
      const parsed = h?.schema.safeParse(data);
      if (!h || !parsed?.success) {
        const reason = !h ? 'no-handler' : data === NOT_JSON ? 'not-json' : 'invalid';
        eventsRejected.inc({ subject: msg.subject, reason });
        // The start of the payload is enough to find it in the stream; a hostile one may be 1 MB.
        const payload = msg.string().slice(0, 1024);
        log.error({ ...ctx, reason, payload, issues: parsed?.error?.issues.slice(0, 5) }, 'malformed event terminated');
        msg.term('malformed payload');
        continue;
      }
      try {
        // In the trace of the message's `traceparent` (a payment:created of the payments service), if any.
        const outcome = await inConsumerSpan(msg, () => h.handle(parsed.data, msg));
        if (outcome.ack) {
          msg.ack();
          log.debug(ctx, 'event handled');
        } else {
          log.info({ ...ctx, reason: outcome.reason, retryInMs: outcome.retryInMs }, 'event deferred');
          msg.nak(outcome.retryInMs);
        }
      } catch (err) {
        const retryInMs = Math.min(30_000, 1000 * 2 ** Math.min(ctx.redelivered, 5));
        log.warn({ ...ctx, err, retryInMs }, 'event handler failed; it will come again');
        msg.nak(retryInMs);
      }
    }
  };
}
