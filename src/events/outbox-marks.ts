import type { OutboxStore } from '../store/outbox';

/** At most this many acked rows wait for the next write, besides those of the write in flight. */
const MAX_WAITING = 10;

/**
 * Marks published rows behind the relay's next publishes, one write at a time, each taking
 * every row acked since the last. The relay does not wait for the database between two
 * publishes (a write per row cost PostgreSQL three quarters of the relay's throughput), and a
 * crash re-publishes only the rows acked during the write in flight: a few, 20 at the most.
 */
export class OutboxMarks {
  private acked: number[] = [];
  private writing: Promise<void> | undefined;
  private failure: { err: unknown } | undefined;

  constructor(private readonly outbox: Pick<OutboxStore, 'markPublished'>) {}

  /** A write failed (the database is down): publish no more until `settled` has reported it. */
  get failed(): boolean {
    return this.failure !== undefined;
  }

  /** NATS acked this row. Returns at once, unless too many acks wait for a write: then once it is done. */
  async add(id: number): Promise<void> {
    this.acked.push(id);
    this.writing ??= this.write();
    // A slow database must not let the unmarked rows (re-published after a crash) pile up.
    if (this.acked.length >= MAX_WAITING) await this.writing;
  }

  /** Waits until every acked row is marked; throws, once, if a write failed (those rows stay pending). */
  async settled(): Promise<void> {
    await this.writing;
    const failure = this.failure;
    this.failure = undefined;
    this.acked = [];
    if (failure) throw failure.err;
  }

  private async write(): Promise<void> {
    // After the next publish has gone out: the write overlaps its round trip, and takes more rows.
    await new Promise((resolve) => setImmediate(resolve));
    try {
      while (this.acked.length > 0) {
        await this.outbox.markPublished(this.acked.splice(0), new Date().toISOString());
      }
    } catch (err) {
      this.failure = { err };
    } finally {
      this.writing = undefined;
    }
  }
}
