import { Events } from 'nats';
import type { Logger } from '../logger';
import { eventsPublished, outboxPruned, outboxPublishFailures, outboxSetAside } from '../metrics';
import type { OutgoingEvent } from '../orders/catalogue';
import type { OutboxStore, PendingEvent } from '../store/outbox';
import { publishEvent, type EventBus } from './jetstream';
import { OutboxMarks } from './outbox-marks';
import { describeRefusal, refusedForGood } from './publish-errors';

/** Publishes one event; `trace`, when the row has one, is the trace it was written in. */
export type Publish = (event: OutgoingEvent & Pick<PendingEvent, 'trace'>) => Promise<unknown>;

export interface RelayOptions {
  /** How often it looks for events that other processes wrote (its own writes kick it at once). */
  pollMs?: number;
  /** Its back-off while the bus is down: the first wait, doubled on each failure up to the last. */
  backoffMs?: { first: number; max: number };
  /** Published rows are deleted once they are this old (unpublished and set-aside rows never are). */
  retentionMs?: number;
  /** How often it looks for rows to delete. */
  pruneEveryMs?: number;
}

/** The relay of a process, publishing to its bus, and woken by the bus's reconnection. */
export function startOutboxRelay(
  bus: EventBus,
  outbox: ConstructorParameters<typeof OutboxRelay>[0],
  logger: Logger,
  options: RelayOptions = {},
): OutboxRelay {
  const relay = new OutboxRelay(outbox, (event) => publishEvent(bus, event), logger, options);
  relay.start();
  // Events that waited for the bus go as soon as it is back, not at the end of a back-off of up to 30 s.
  void (async () => {
    for await (const status of bus.nc.status()) if (status.type === Events.Reconnect) relay.wake();
  })();
  return relay;
}

/** Deleted per statement: a short write, between which events go on being published. */
const PRUNE_BATCH = 500;

/**
 * Publishes the outbox in order, at-least-once. Each row is marked as soon as the stream acks
 * it (outbox-marks.ts), so a crash re-publishes only the rows in flight (which JetStream drops by
 * `Nats-Msg-Id` within its window), however long the process stays down. While the bus is down
 * events wait in the database. A row that NATS refuses for good is set aside, never retried,
 * and the rows after it go on (invariant 8).
 */
export class OutboxRelay {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private woken = false;
  private stopped = false;
  private failures = 0;
  private nextPruneAt = 0;
  private readonly pollMs: number;
  private readonly backoffMs: { first: number; max: number };
  private readonly retentionMs: number;
  private readonly pruneEveryMs: number;
  private readonly marks: OutboxMarks;

  constructor(
    private readonly outbox: Pick<OutboxStore, 'pending' | 'markPublished' | 'setAside' | 'prunePublished'>,
    private readonly publish: Publish,
    private readonly logger: Logger,
    options: RelayOptions = {},
  ) {
    this.pollMs = options.pollMs ?? 100;
    this.backoffMs = options.backoffMs ?? { first: this.pollMs * 2, max: 30_000 };
    this.retentionMs = options.retentionMs ?? 24 * 3600_000;
    this.pruneEveryMs = options.pruneEveryMs ?? 60_000;
    this.marks = new OutboxMarks(outbox);
  }

  start(): void {
    this.schedule(0);
  }

  /** Publish now (called when this process wrote events), instead of waiting for the next poll. */
  kick(): void {
    if (this.stopped) return;
    if (this.running) this.again = true;
    else this.schedule(0);
  }

  /** The bus is back: retry now rather than at the end of the back-off, even if a round is failing as it comes back. */
  wake(): void {
    this.woken = true;
    this.kick();
  }

  /** Stops polling, after one last round for what this process wrote until now (its last activities). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    await this.drain();
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.running = this.drain().finally(() => (this.running = undefined));
    }, ms);
  }

  private async drain(): Promise<void> {
    let delay = this.pollMs;
    this.again = false;
    this.woken = false;
    try {
      for (;;) {
        const events = await this.outbox.pending(100);
        if (events.length === 0) break;
        try {
          for (const event of events) {
            if (this.marks.failed) break; // the database is down: the back-off takes over
            await this.relay(event);
          }
        } finally {
          await this.marks.settled(); // every ack marked before the outbox is read again
        }
      }
      if (this.failures > 0) this.logger.info({ after: this.failures }, 'event bus reachable again; outbox drained');
      this.failures = 0;
      await this.prune();
      if (this.again) delay = 0;
    } catch (err) {
      this.failures += 1;
      outboxPublishFailures.inc();
      const { first, max } = this.backoffMs;
      delay = this.woken ? 0 : Math.min(max, first * 2 ** Math.min(this.failures - 1, 20));
      this.logger.warn({ err, retryInMs: delay }, 'outbox: could not publish; events stay queued and will be retried');
    }
    this.schedule(delay);
  }

  /** Publishes one row and has it marked at once; a row NATS refuses for good is set aside instead. */
  private async relay(event: PendingEvent): Promise<void> {
    const ctx = { outboxId: event.id, subject: event.subject, msgId: event.msgId.slice(0, 200) };
    try {
      await this.publish(event);
    } catch (err) {
      if (!refusedForGood(err)) throw err;
      await this.outbox.setAside(event.id, describeRefusal(err), new Date().toISOString());
      outboxSetAside.inc({ subject: event.subject });
      this.logger.error({ ...ctx, err }, 'outbox: NATS refused this event for good; set aside, the next ones go on');
      return;
    }
    await this.marks.add(event.id);
    eventsPublished.inc({ subject: event.subject });
    this.logger.info(ctx, 'event published');
  }

  /** Once in a while, when the outbox is drained: published rows past the retention, a batch per round. */
  private async prune(): Promise<void> {
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
