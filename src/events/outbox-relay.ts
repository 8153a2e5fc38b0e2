import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { Events } from 'nats';
import type { Logger } from '../logger';
import { outboxPublishFailures } from '../metrics';
import type { OutboxStore } from '../store/outbox';
import { publishEvent, type EventBus } from './jetstream';
import { OutboxMarks } from './outbox-marks';
import { OutboxPruner } from './outbox-pruner';
import { OutboxPublisher, type Publish } from './outbox-publisher';

export type { Publish } from './outbox-publisher';

export interface RelayOptions {
  /** How often it looks for events that other processes wrote (its own writes kick it at once). */
  pollMs?: number;
  /** Its back-off while the bus is down: the first wait, doubled on each failure up to the last. */
  backoffMs?: { first: number; max: number };
  /** Published rows are deleted once they are this old (unpublished and set-aside rows never are). */
  retentionMs?: number;
  /** How often it looks for rows to delete. */
  pruneEveryMs?: number;
  /**
   * How long its claim on a batch of rows lasts: no other relay publishes them meanwhile, and a
   * relay that dies holds them this long at most. It publishes from a batch for half of it only.
   */
  claimMs?: number;
  /** Who it is in the outbox's `claimed_by` (host, pid and a random suffix by default). */
  relayId?: string;
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

/** Rows claimed at a time. */
const CLAIM_BATCH = 100;

/**
 * Publishes the outbox in order, at-least-once. Each row is marked as soon as the stream acks
 * it (outbox-marks.ts), so a crash re-publishes only the rows in flight (which JetStream drops by
 * `Nats-Msg-Id` within its window), however long the process stays down. While the bus is down
 * events wait in the database. A row that NATS refuses for good is set aside, never retried,
 * and the rows after it go on (invariant 8).
 *
 * Every worker process runs one. A relay publishes only rows it claimed (OutboxStore.claim): the
 * oldest unsent ones, while no other relay's claim runs, so each row goes out once whatever the
 * number of workers, and an order's events in the order they were written. A relay that dies
 * leaves its claim to expire; the next relay to claim takes its rows over.
 */
export class OutboxRelay {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private woken = false;
  private stopped = false;
  private failures = 0;
  private readonly pollMs: number;
  private readonly backoffMs: { first: number; max: number };
  private readonly marks: OutboxMarks;
  private readonly publisher: OutboxPublisher;
  private readonly pruner: OutboxPruner;
  private readonly claimMs: number;
  readonly relayId: string;

  constructor(
    private readonly outbox: Pick<OutboxStore, 'claim' | 'release' | 'markPublished' | 'setAside' | 'prunePublished'>,
    publish: Publish,
    private readonly logger: Logger,
    options: RelayOptions = {},
  ) {
    this.pollMs = options.pollMs ?? 100;
    this.backoffMs = options.backoffMs ?? { first: this.pollMs * 2, max: 30_000 };
    this.marks = new OutboxMarks(outbox);
    this.publisher = new OutboxPublisher(outbox, publish, this.marks, logger);
    this.pruner = new OutboxPruner(
      outbox,
      logger,
      options.retentionMs ?? 24 * 3600_000,
      options.pruneEveryMs ?? 60_000,
    );
    this.claimMs = options.claimMs ?? 30_000;
    this.relayId = options.relayId ?? `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
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
    // What it could not publish is for the other relays now, not after its lease.
    await this.outbox.release(this.relayId).catch((err: unknown) => {
      this.logger.warn({ err }, 'outbox: could not release claimed rows; they are taken over when the claim expires');
    });
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
        // Measured before the claim: the lease runs out no sooner than this here.
        const publishUntil = Date.now() + this.claimMs / 2;
        const events = await this.outbox.claim(this.relayId, CLAIM_BATCH, this.claimMs);
        if (events.length === 0) break; // nothing to publish, or another relay is publishing the oldest rows
        try {
          for (const event of events) {
            if (this.marks.failed) break; // the database is down: the back-off takes over
            if (Date.now() >= publishUntil) break; // claimed again, for a new lease, before going on
            await this.publisher.publishRow(event);
          }
        } finally {
          await this.marks.settled(); // every ack marked before the outbox is read again
        }
      }
      if (this.failures > 0) this.logger.info({ after: this.failures }, 'event bus reachable again; outbox drained');
      this.failures = 0;
      await this.pruner.prune();
      if (this.again) delay = 0;
    } catch (err) {
      this.failures += 1;
      outboxPublishFailures.inc();
      const { first, max } = this.backoffMs;
      delay = this.woken ? 0 : Math.min(max, first * 2 ** Math.min(this.failures - 1, 20));
      this.logger.warn({ err, retryInMs: delay }, 'outbox: could not publish; events stay queued and will be retried');
      // Another relay (its bus may be up) can take the rows over now rather than after the lease.
      await this.outbox.release(this.relayId).catch(() => undefined);
    }
    this.schedule(delay);
  }
}
