import type { OutgoingEvent } from '../orders/catalogue';
import type { Db } from './schema';
import type { Trx } from './transactions';

export type PendingEvent = { id: number } & OutgoingEvent;

/**
 * Queues events in the transaction of the change that caused them. A message id already queued
 * is skipped, so a retried change writes its events once.
 */
export async function appendToOutbox(trx: Trx, events: readonly OutgoingEvent[]): Promise<void> {
  if (events.length === 0) return;
  const createdAt = new Date().toISOString();
  await trx
    .insertInto('outbox')
    .values(
      events.map((e) => ({ msg_id: e.msgId, subject: e.subject, data: JSON.stringify(e.data), created_at: createdAt })),
    )
    .onConflict((oc) => oc.column('msg_id').doNothing())
    .execute();
}

/** The outbox as its relay reads it: pending events in the order they were written. */
export class OutboxStore {
  constructor(private readonly db: Db) {}

  async pending(limit: number): Promise<PendingEvent[]> {
    const rows = await this.db
      .selectFrom('outbox')
      .select(['id', 'msg_id', 'subject', 'data'])
      .where('published_at', 'is', null)
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map((r) => ({
      id: Number(r.id),
      msgId: r.msg_id,
      subject: r.subject as OutgoingEvent['subject'],
      data: JSON.parse(r.data) as OutgoingEvent['data'],
    }));
  }

  async markPublished(ids: number[], at: string): Promise<void> {
    if (ids.length === 0) return;
    await this.db.updateTable('outbox').set({ published_at: at }).where('id', 'in', ids).execute();
  }
}
