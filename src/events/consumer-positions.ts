import type { Logger } from '../logger';
import { ensureConsumer, isNotFound, type EventBus } from './jetstream';

/** A consumer's ack floor (a stream sequence), and when it was recorded. */
export interface ConsumerFloor {
  streamSeq: number;
  recordedAt: string;
}

/** Where a consumer's ack floor is kept (store/consumer-positions.ts). */
export interface PositionLog {
  floorOf(durable: string): Promise<ConsumerFloor | undefined>;
  record(durable: string, streamSeq: number): Promise<void>;
}

/** How often a running consumer's ack floor is recorded: what a lost consumer may deliver again. */
export const RECORD_FLOOR_EVERY_MS = 5000;

/**
 * Gets the durable consumer, creating it if it is not there. A consumer lost under a running
 * service (deleted by an operator, its stream restored) used to be created from the stream's start:
 * every payment in it was decided again. It now starts after its recorded ack floor, unless that
 * floor belongs to an older stream (recorded before this stream was created, or past its end).
 */
export async function openDurable(
  bus: EventBus,
  durable: string,
  subjects: string[],
  positions: PositionLog | undefined,
  log: Logger,
): Promise<void> {
  if (await exists(bus, durable)) return;
  const floor = await positions?.floorOf(durable);
  const stream = floor && (await bus.jsm.streams.info(bus.stream));
  const sameStream =
    floor &&
    stream &&
    floor.streamSeq <= stream.state.last_seq &&
    Date.parse(stream.created) <= Date.parse(floor.recordedAt);
  const startSeq = sameStream ? floor.streamSeq + 1 : undefined;
  await ensureConsumer(bus, durable, subjects, startSeq);
  log.info(
    { startSeq: startSeq ?? 'the stream start', recordedFloor: floor?.streamSeq },
    startSeq ? 'consumer created after its recorded ack floor' : 'consumer created',
  );
}

/** Records the consumer's ack floor every RECORD_FLOOR_EVERY_MS; returns the function that stops it (and records once more). */
export function recordFloor(bus: EventBus, durable: string, positions: PositionLog, log: Logger): () => Promise<void> {
  const recordNow = async () => {
    try {
      const info = await bus.jsm.consumers.info(bus.stream, durable);
      if (info.ack_floor.stream_seq > 0) await positions.record(durable, info.ack_floor.stream_seq);
    } catch (err) {
      log.debug({ err }, 'could not record the consumer ack floor; trying again later');
    }
  };
  const timer = setInterval(() => void recordNow(), RECORD_FLOOR_EVERY_MS);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await recordNow();
  };
}

async function exists(bus: EventBus, durable: string): Promise<boolean> {
  try {
    await bus.jsm.consumers.info(bus.stream, durable);
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}
