import type { Logger } from '../logger';
import { outboxPruned } from '../metrics';
import type { OutboxStore } from '../store/outbox';

/** Deleted per statement: a short write, between which events go on being published. */
const PRUNE_BATCH = 500;

/** The relay's clean-up: deletes published rows once they are older than the retention. */
export class OutboxPruner {
  private nextPruneAt = 0;

  constructor(
    private readonly outbox: Pick<OutboxStore, 'prunePublished'>,
    private readonly logger: Logger,
    private readonly retentionMs: number,
    private readonly pruneEveryMs: number,
  ) {}

  /** Once in a while, when the outbox is drained: published rows past the retention, a batch per round. */
  async prune(): Promise<void> {
    if (Date.now() < this.nextPruneAt) return;
    const before = new Date(Date.now() - this.retentionMs).toISOString();
    try {
      const deleted = await this.outbox.prunePublished(before, PRUNE_BATCH);
      outboxPruned.inc(deleted);
      // A full batch: more are due, next round (events published first); else not before the next period.
      if (deleted < PRUNE_BATCH) this.nextPruneAt = Date.now() + this.pruneEveryMs;
      if (deleted > 0) this.logger.debug({ deleted, before }, 'outbox: published rows pruned');
    } catch (err) {
      // Pruning can wait; publishing must not back off because of it.
      this.nextPruneAt = Date.now() + this.pruneEveryMs;
      this.logger.warn({ err }, 'outbox: could not prune published rows; will try again later');
    }
  }
}
