import { sql } from 'kysely';
import type { Db } from './schema';

/**
 * Where each durable consumer had got to: the ack floor JetStream last reported for it (every
 * message at or below it handled). A consumer that is lost is created again after it, so the
 * stream is not replayed from its start; what lies between the floor and where the consumer really
 * was comes again, and its handlers are idempotent (a payment is decided once: payments_decided).
 */
export class ConsumerPositions {
  constructor(private readonly db: Db) {}

  /** The floor (a stream sequence) and when it was recorded. */
  async floorOf(durable: string): Promise<{ streamSeq: number; recordedAt: string } | undefined> {
    const row = await this.db
      .selectFrom('consumer_positions')
      .select(['stream_seq', 'updated_at'])
      .where('durable', '=', durable)
      .executeTakeFirst();
    return row && { streamSeq: Number(row.stream_seq), recordedAt: row.updated_at };
  }

  /** Records `streamSeq` unless a higher floor is already there (another worker's report). */
  async record(durable: string, streamSeq: number): Promise<void> {
    const now = new Date().toISOString();
    await this.db
      .insertInto('consumer_positions')
      .values({ durable, stream_seq: streamSeq, updated_at: now })
      .onConflict((oc) =>
        oc
          .column('durable')
          .doUpdateSet({ stream_seq: streamSeq, updated_at: now })
          .where(sql.ref('consumer_positions.stream_seq'), '<', streamSeq),
      )
      .execute();
  }
}
