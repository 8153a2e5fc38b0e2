import type { ConsumerMessages } from 'nats';
import type { Logger } from '../logger';
import { consumerRestarts } from '../metrics';
import { openDurable, recordFloor, type PositionLog } from './consumer-positions';
import type { EventBus } from './jetstream';

export interface RunningConsumer {
  /** Resolves while the consumer is consuming; rejects, saying since when and why, while it is down (for /readyz). */
  check(): Promise<void>;
  stop(): Promise<void>;
}

/** The pause before consuming again: doubled after each failure in a row, up to the maximum. */
const FIRST_PAUSE_MS = 500;
const MAX_PAUSE_MS = 30_000;

/**
 * Keeps a durable consumer consuming. The message iterator ends, or throws, when the server
 * refuses the pull or the connection closes, and (told so below) when the consumer or its stream
 * is deleted. Before this, the loop then ended without a word (or, for a deleted consumer, waited
 * forever), and the process went on, ready but deaf. Now each end that `stop` did not ask for is
 * logged and counted, the consumer reports itself down, and it is got again after a pause
 * (recreated if it was deleted, after the ack floor recorded in `positions`), until it consumes
 * again. The first start is not retried: a process that cannot consume at all fails its start-up.
 */
export async function superviseConsumer(
  bus: EventBus,
  durable: string,
  subjects: string[],
  log: Logger,
  consume: (messages: ConsumerMessages, consuming: () => void) => Promise<void>,
  positions?: PositionLog,
): Promise<RunningConsumer> {
  const open = async () => {
    await openDurable(bus, durable, subjects, positions, log); // creates it again if it was deleted
    const consumer = await bus.js.consumers.get(bus.stream, durable);
    // Without abort_on_missing_resource, nats.js waits for a deleted consumer or stream, silently and forever.
    return consumer.consume({ max_messages: 64, abort_on_missing_resource: true });
  };
  let messages: ConsumerMessages | undefined = await open();
  const stopRecording = positions ? recordFloor(bus, durable, positions, log) : async () => {};
  let down: { since: string; reason: string } | undefined;
  let failures = 0; // in a row: the pause grows with them, and a handled message resets them
  let stopped = false;
  let wake = () => {};

  const loop = (async () => {
    while (!stopped) {
      try {
        if (!messages) {
          messages = await open();
          if (stopped) break; // stop() came while it was opening
        }
        if (down) log.info({ downSince: down.since }, 'consumer consuming again');
        down = undefined;
        await consume(messages, () => (failures = 0));
        if (stopped) break;
        throw new Error('the message iterator ended');
      } catch (err) {
        if (stopped) break;
        messages = undefined;
        failures += 1;
        const retryInMs = Math.min(MAX_PAUSE_MS, FIRST_PAUSE_MS * 2 ** (failures - 1));
        down = { since: down?.since ?? new Date().toISOString(), reason: (err as Error).message };
        consumerRestarts.inc({ consumer: durable });
        log.error({ err, failures, retryInMs }, 'consumer stopped consuming; it will consume again after a pause');
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, retryInMs);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    }
  })();

  return {
    check: async () => {
      if (down) throw new Error(`down since ${down.since} (${failures} failures in a row): ${down.reason}`);
    },
    stop: async () => {
      stopped = true;
      wake();
      await messages?.close();
      await loop;
      await messages?.close(); // opened while stop() waited
      await stopRecording();
    },
  };
}
