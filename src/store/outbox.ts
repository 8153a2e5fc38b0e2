import { context, propagation } from '@opentelemetry/api';
import type { OutgoingEvent } from '../orders/catalogue';
import { sql } from 'kysely';
import { headerSafeMsgId } from './safe-ids';
import type { DatabaseKind, Db } from './schema';
import { inTransaction, type Trx } from './transactions';

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

/** The advisory lock (PostgreSQL) that claims of the outbox take turns on. */
const CLAIM_LOCK = 7_150_120_811;

function toPendingEvent(r: {
  id: number;
  msg_id: string;
  subject: string;
  data: string;
  traceparent: string | null;
  tracestate: string | null;
}): PendingEvent {
  return {
    id: Number(r.id),
    msgId: r.msg_id,
    subject: r.subject as OutgoingEvent['subject'],
    data: JSON.parse(r.data) as OutgoingEvent['data'],
    ...(r.traceparent
      ? { trace: { traceparent: r.traceparent, ...(r.tracestate ? { tracestate: r.tracestate } : {}) } }
      : {}),
  };
}

/** The outbox as its relay reads it: pending events in the order they were written. */
export class OutboxStore {
  constructor(
    private readonly db: Db,
    private readonly kind: DatabaseKind,
  ) {}

  private unsent(db: Db) {
    return db.selectFrom('outbox').where('published_at', 'is', null).where('failed_at', 'is', null);
  }

  /** An unsent row that another relay claimed, its lease still running at `now`. */
  private claimedByAnother(db: Db, relay: string, now: string) {
    return this.unsent(db).select('id').where('claimed_by', '<>', relay).where('claimed_until', '>', now).limit(1);
  }

  /** Rows neither published nor set aside, oldest first (whoever claimed them). */
  async pending(limit: number): Promise<PendingEvent[]> {
    const rows = await this.unsent(this.db)
      .select(['id', 'msg_id', 'subject', 'data', 'traceparent', 'tracestate'])
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map(toPendingEvent);
  }

  /**
   * Claims for `relay`, for `leaseMs`, the `limit` oldest unsent rows (a prefix of the outbox in id
   * order), and returns them oldest first; rows it already held are claimed again, for a new lease.
   * None while another relay's lease on an unsent row runs: that relay publishes the oldest rows,
   * and a relay that started on the rows after them could publish an order's later event first.
   * One conditional UPDATE; on PostgreSQL claims also take turns on an advisory lock, so that the
   * check and the claim see the same rows (SQLite runs one write at a time already).
   */
  async claim(relay: string, limit: number, leaseMs: number): Promise<PendingEvent[]> {
    // A read first: an idle relay polling an empty (or claimed) outbox takes no write lock.
    const now = new Date().toISOString();
    const [first, held] = await Promise.all([
      this.unsent(this.db).select('id').limit(1).executeTakeFirst(),
      this.claimedByAnother(this.db, relay, now).executeTakeFirst(),
    ]);
    if (!first || held) return [];
    return inTransaction(this.db, this.kind, async (trx) => {
      if (this.kind === 'postgres') await sql`select pg_advisory_xact_lock(${sql.lit(CLAIM_LOCK)})`.execute(trx);
      const at = new Date().toISOString();
      const rows = await trx
        .updateTable('outbox')
        .set({ claimed_by: relay, claimed_until: new Date(Date.now() + leaseMs).toISOString() })
        .where('id', 'in', (eb) =>
          eb
            .selectFrom('outbox')
            .select('id')
            .where('published_at', 'is', null)
            .where('failed_at', 'is', null)
            .orderBy('id')
            .limit(limit),
        )
        .where(({ not, exists }) => not(exists(this.claimedByAnother(trx, relay, at))))
        .returning(['id', 'msg_id', 'subject', 'data', 'traceparent', 'tracestate'])
        .execute();
      return rows.sort((a, b) => Number(a.id) - Number(b.id)).map(toPendingEvent);
    });
  }

  /** Gives up the claims of `relay` on the rows it has not published (it stops, or cannot publish). */
  async release(relay: string): Promise<void> {
    await this.db
      .updateTable('outbox')
      .set({ claimed_by: null, claimed_until: null })
      .where('published_at', 'is', null)
      .where('failed_at', 'is', null)
      .where('claimed_by', '=', relay)
      .execute();
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
