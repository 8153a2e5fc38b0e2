import type { MsgRequest } from 'nats';
import { Subjects } from '../orders/catalogue';
import type { PaymentsProgress } from '../orders/ports';
import { FENCE_SUBJECT, isNotFound, type EventBus } from './jetstream';

/**
 * Where the stream's clock and the payments consumer stood at one fence message. An answer of
 * true stays true: every payment still to come is stamped after the fence (the stream's leader
 * stamps in order), and a payment once decided stays decided (payments_decided).
 */
interface Snapshot {
  /** When the stream stored the fence: the stream's clock. */
  fenceAtMs: number;
  /** When the stream stored the first payment not yet decided (the first above the ack floor), if any. */
  firstUndecidedAtMs: number | undefined;
}

/**
 * Whether every payment published up to a deadline has been decided, in one clock: the stream's.
 * A payment is judged by the time the stream stored it (decisions/paying.ts), so "nothing is still
 * pending up to the deadline" is judged there too, never by the worker's or Temporal's clock (a NATS
 * clock behind theirs by δ used to let a payment stored after the check carry a time before the
 * deadline, and be refused although in time). The process publishes a fence message: once the
 * stream has stamped a fence later than the deadline, any payment still to come is stamped later
 * still, so the deadline is consumed when the first payment not yet decided (if any) was stamped
 * after it too.
 *
 * One poller per process answers every expiry: a question that the latest fence cannot answer
 * starts one refresh (a fence, its time, the consumer's ack floor, the first payment above it),
 * which every question asked meanwhile shares. Nothing waits longer than that refresh: the expiry
 * that gets `false` fails its attempt and Temporal retries it with back-off.
 */
export function paymentsProgress(bus: EventBus, durable: string): PaymentsProgress {
  let latest: Snapshot | undefined;
  let refreshing: Promise<Snapshot> | undefined;
  let previousFence: number | undefined;

  const answers = (s: Snapshot | undefined, deadline: number) =>
    s !== undefined &&
    s.fenceAtMs > deadline &&
    (s.firstUndecidedAtMs === undefined || s.firstUndecidedAtMs > deadline);

  const refresh = async (): Promise<Snapshot> => {
    const fence = await publishFence(bus);
    // The fence before it is no longer needed; the stream keeps one per process at most.
    if (previousFence !== undefined)
      await bus.jsm.streams.deleteMessage(bus.stream, previousFence, false).catch(() => false);
    previousFence = fence.seq;
    const info = await bus.jsm.consumers.info(bus.stream, durable);
    const firstUndecidedAtMs = await firstPaymentAbove(bus, info.ack_floor.stream_seq);
    return { fenceAtMs: fence.atMs, firstUndecidedAtMs };
  };

  return {
    async consumedUntil(deadline) {
      const deadlineMs = Date.parse(deadline);
      if (answers(latest, deadlineMs)) return true;
      refreshing ??= refresh().finally(() => (refreshing = undefined));
      latest = await refreshing;
      return answers(latest, deadlineMs);
    },
  };
}

/** Publishes a fence and reads back the time the stream stamped it. */
async function publishFence(bus: EventBus): Promise<{ seq: number; atMs: number }> {
  const ack = await bus.js.publish(FENCE_SUBJECT, new Uint8Array());
  const stored = await bus.jsm.streams.getMessage(bus.stream, { seq: ack.seq });
  return { seq: ack.seq, atMs: stored.time.getTime() };
}

/** When the stream stored the first payment after `floor` (undecided by definition), if any. */
async function firstPaymentAbove(bus: EventBus, floor: number): Promise<number | undefined> {
  try {
    // The stream's leader answers this get (a direct get may come from a replica that lags behind
    // and has not stored the payment yet); nats.js leaves `next_by_subj` out of its type.
    const query = { seq: floor + 1, next_by_subj: Subjects.PaymentCreated };
    return (await bus.jsm.streams.getMessage(bus.stream, query as unknown as MsgRequest)).time.getTime();
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}
