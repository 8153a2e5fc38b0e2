import type { MsgRequest } from 'nats';
import { Subjects } from '../orders/catalogue';
import type { PaymentsProgress } from '../orders/ports';
import { isNotFound, type EventBus } from './jetstream';

/**
 * How far the payments consumer has decided, read from JetStream itself: its ack floor is the last
 * payment before which every payment is decided, and the stream keeps the time each payment was
 * published. So the first payment above the floor says whether any payment up to a deadline waits.
 */
export function paymentsProgress(bus: EventBus, durable: string): PaymentsProgress {
  return {
    async consumedUntil(deadline) {
      const info = await bus.jsm.consumers.info(bus.stream, durable);
      if (info.num_pending === 0 && info.num_ack_pending === 0) return true;
      try {
        // The stream's leader answers this get (a direct get may come from a replica that lags
        // behind and has not stored the payment yet); nats.js leaves `next_by_subj` out of its type.
        const query = { seq: info.ack_floor.stream_seq + 1, next_by_subj: Subjects.PaymentCreated };
        const next = await bus.jsm.streams.getMessage(bus.stream, query as unknown as MsgRequest);
        return next.time.getTime() > Date.parse(deadline);
      } catch (err) {
        if (isNotFound(err)) return true; // no payment above the floor
        throw err;
      }
    },
  };
}
