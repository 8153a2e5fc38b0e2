import type { Logger } from '../logger';
import { eventsPublished, outboxSetAside } from '../metrics';
import type { OutgoingEvent } from '../orders/catalogue';
import type { OutboxStore, PendingEvent } from '../store/outbox';
import type { OutboxMarks } from './outbox-marks';
import { describeRefusal, refusedForGood } from './publish-errors';

/** Publishes one event; `trace`, when the row has one, is the trace it was written in. */
export type Publish = (event: OutgoingEvent & Pick<PendingEvent, 'trace'>) => Promise<unknown>;

/** The relay's publishing of the rows it claimed, one at a time, in the order it claimed them. */
export class OutboxPublisher {
  constructor(
    private readonly outbox: Pick<OutboxStore, 'setAside'>,
    private readonly publish: Publish,
    private readonly marks: Pick<OutboxMarks, 'add'>,
    private readonly logger: Logger,
  ) {}

  /** Publishes one row and has it marked at once; a row NATS refuses for good is set aside instead. */
  async publishRow(event: PendingEvent): Promise<void> {
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
}
