import { createHash } from 'node:crypto';
import { context, propagation } from '@opentelemetry/api';
import type { OutgoingEvent } from '../orders/catalogue';
import type { Db } from './schema';
import type { Trx } from './transactions';

/** W3C trace context headers (https://www.w3.org/TR/trace-context/). */
export interface TraceContext {
  traceparent: string;
  tracestate?: string;
}

/** An event waiting to be published; `trace`: the trace it was written in, when tracing was on. */
export type PendingEvent = { id: number; trace?: TraceContext } & OutgoingEvent;

/**
 * The active trace context (the request's or the activity's span) as W3C headers; none without
 * tracing (no SDK: no propagator) or outside a span.
 */
export function activeTraceContext(): Partial<TraceContext> {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent
    ? { traceparent: carrier.traceparent, ...(carrier.tracestate ? { tracestate: carrier.tracestate } : {}) }
    : {};
}

/**
 * Queues events in the transaction of the change that caused them. A message id already queued
 * is skipped, so a retried change writes its events once.
 */
export async function appendToOutbox(trx: Trx, events: readonly OutgoingEvent[]): Promise<void> {
  if (events.length === 0) return;
  const createdAt = new Date().toISOString();
  // Written in the caller's span: the relay publishes each event in its trace.
  const { traceparent = null, tracestate = null } = activeTraceContext();
  await trx
    .insertInto('outbox')
    .values(
      events.map((e) => ({
        msg_id: headerSafeMsgId(e),
        subject: e.subject,
        data: JSON.stringify(e.data),
        created_at: createdAt,
        traceparent,
        tracestate,
      })),
    )
    .onConflict((oc) => oc.column('msg_id').doNothing())
    .execute();
}

/** Printable ASCII without spaces, and short: what a NATS header value (`Nats-Msg-Id`) carries as it is. */
const HEADER_SAFE = /^[\x21-\x7e]{1,200}$/;

/**
 * The msg id becomes JetStream's `Nats-Msg-Id` header, and the outbox's unique key. The edge
 * checks the ids of other services (events/incoming.ts), but should one ever hold CR/LF (no
 * header can carry it) or be huge (no index can hold it), it is replaced by its digest, as
 * stable, so a retried change is still written once. Every other id keeps today's
 * `<subject>:<id>`, which existing rows and JetStream's dedup rely on.
 */
export function headerSafeMsgId({ subject, msgId }: Pick<OutgoingEvent, 'subject' | 'msgId'>): string {
  if (HEADER_SAFE.test(msgId)) return msgId;
  return `${subject}:sha256:${createHash('sha256').update(msgId).digest('hex')}`;
}

/** The outbox as its relay reads it: pending events in the order they were written. */
export class OutboxStore {
  constructor(private readonly db: Db) {}

  /** Rows neither published nor set aside, oldest first. */
  async pending(limit: number): Promise<PendingEvent[]> {
    const rows = await this.db
      .selectFrom('outbox')
      .select(['id', 'msg_id', 'subject', 'data', 'traceparent', 'tracestate'])
      .where('published_at', 'is', null)
      .where('failed_at', 'is', null)
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map((r) => ({
      id: Number(r.id),
      msgId: r.msg_id,
      subject: r.subject as OutgoingEvent['subject'],
      data: JSON.parse(r.data) as OutgoingEvent['data'],
      ...(r.traceparent
        ? { trace: { traceparent: r.traceparent, ...(r.tracestate ? { tracestate: r.tracestate } : {}) } }
        : {}),
    }));
  }

  /** How many rows wait (neither published nor set aside), and when the oldest was written: for metrics. */
  async backlog(): Promise<{ waiting: number; oldestCreatedAt?: string }> {
    const unsent = this.db.selectFrom('outbox').where('published_at', 'is', null).where('failed_at', 'is', null);
    const [count, oldest] = await Promise.all([
      unsent.select((eb) => eb.fn.countAll<string | number>().as('n')).executeTakeFirstOrThrow(),
      unsent.select('created_at').orderBy('id').limit(1).executeTakeFirst(),
    ]);
    return { waiting: Number(count.n), ...(oldest ? { oldestCreatedAt: oldest.created_at } : {}) };
  }

  async markPublished(ids: number[], at: string): Promise<void> {
    if (ids.length === 0) return;
    await this.db.updateTable('outbox').set({ published_at: at }).where('id', 'in', ids).execute();
  }

  /** NATS refused this row for good: it is kept, with why, and never retried unless an operator clears it. */
  async setAside(id: number, failure: string, at: string): Promise<void> {
    await this.db.updateTable('outbox').set({ failed_at: at, failure }).where('id', '=', id).execute();
  }

  /**
   * Deletes up to `limit` rows published before `before`, oldest first; returns how many. Rows
   * waiting or set aside have no `published_at`, so they are never deleted.
   */
  async prunePublished(before: string, limit: number): Promise<number> {
    const result = await this.db
      .deleteFrom('outbox')
      .where('id', 'in', (eb) =>
        eb.selectFrom('outbox').select('id').where('published_at', '<', before).orderBy('published_at').limit(limit),
      )
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
