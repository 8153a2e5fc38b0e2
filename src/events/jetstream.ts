import {
  AckPolicy,
  connect,
  DeliverPolicy,
  headers as natsHeaders,
  nanos,
  RetentionPolicy,
  StorageType,
  type JetStreamClient,
  type JetStreamManager,
  type NatsConnection,
} from 'nats';
import type { Logger } from '../logger';
import { ALL_SUBJECTS, type OutgoingEvent } from '../orders/catalogue';
import type { TraceContext } from '../store/outbox';
import { inProducerSpan } from './trace-context';

export interface EventBus {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  stream: string;
  close(): Promise<void>;
}

/**
 * Connects to NATS (`url`: one server or a cluster's, comma-separated) and makes sure the durable
 * stream captures every subject of the catalogue, by name, so that events published with core NATS
 * by the other services are kept too, on `replicas` servers of a cluster.
 * Reconnects forever: a bus that is down delays events, it does not stop the service.
 */
export async function connectEventBus(
  url: string,
  stream: string,
  name: string,
  logger: Logger,
  replicas = 1,
): Promise<EventBus> {
  const servers = url.split(',');
  const nc = await connect({ servers, name, maxReconnectAttempts: -1, reconnectTimeWait: 1000 });
  void (async () => {
    for await (const status of nc.status())
      logger.info({ nats: status.type, data: status.data }, 'NATS connection status');
  })();
  const jsm = await nc.jetstreamManager();
  await ensureStream(jsm, stream, replicas, logger).catch(async (err: unknown) => {
    await nc.close(); // a start that fails leaves no connection behind
    throw err;
  });
  return {
    nc,
    js: nc.jetstream(),
    jsm,
    stream,
    close: async () => {
      await nc.drain();
    },
  };
}

/**
 * Not an event: the payments poller's fence (payments-progress.ts), captured by the stream so that
 * the stream stamps it in its own clock and orders it among the payments. No consumer takes it.
 */
export const FENCE_SUBJECT = 'orders:clock-fence';

async function ensureStream(jsm: JetStreamManager, name: string, replicas: number, logger: Logger): Promise<void> {
  const subjects = [...ALL_SUBJECTS, FENCE_SUBJECT];
  await createOrUpdateStream(jsm, name, subjects, replicas, logger).catch(async (err: unknown) => {
    // Only on NATS's own "subjects overlap": after any other error (a cluster still electing its
    // leaders) a lookup per subject would wait out a timeout each and hold the start up for a minute.
    throw (isSubjectOverlap(err) && (await overlapOf(jsm, name, subjects))) || err;
  });
}

/**
 * JetStream lets one stream only capture a subject. When another stream has some of ours (a course
 * service on nats-streaming-jetstream started first, with a cluster id other than NATS_STREAM), the
 * error says which, and what to change, instead of NATS's bare "subjects overlap".
 */
async function overlapOf(jsm: JetStreamManager, name: string, subjects: string[]): Promise<Error | undefined> {
  const taken: string[] = [];
  for (const subject of subjects) {
    const owner = await jsm.streams.find(subject).catch(() => undefined);
    if (owner && owner !== name) taken.push(`${subject} (stream ${owner})`);
  }
  if (taken.length === 0) return undefined;
  return new Error(
    `Another NATS stream already captures ${taken.join(', ')}, and JetStream allows one stream per subject: ` +
      `set NATS_STREAM to that stream's name (a course service names its stream after its cluster id), ` +
      `or remove those subjects from it`,
  );
}

async function createOrUpdateStream(
  jsm: JetStreamManager,
  name: string,
  subjects: string[],
  replicas: number,
  logger: Logger,
): Promise<void> {
  try {
    const info = await jsm.streams.info(name);
    const missing = subjects.filter((s) => !info.config.subjects.includes(s));
    if (missing.length > 0 || info.config.num_replicas !== replicas) {
      // JetStream scales a stream's replicas in place, copying its messages to the new ones.
      await jsm.streams.update(name, {
        ...info.config,
        subjects: [...info.config.subjects, ...missing],
        num_replicas: replicas,
      });
      logger.info({ stream: name, added: missing, replicas }, 'stream updated: every subject captured, replicas set');
    }
  } catch (err) {
    if (!isNotFound(err)) throw err;
    await jsm.streams.add({
      name,
      subjects,
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      max_age: nanos(7 * 24 * 3600 * 1000),
      duplicate_window: nanos(2 * 60 * 1000),
      num_replicas: replicas,
    });
    logger.info({ stream: name, subjects, replicas }, 'created stream');
  }
}

/**
 * A durable pull consumer with explicit acks: unacknowledged messages come again. It delivers from
 * the stream's start, or from `startSeq` (a lost consumer created again: consumer-positions.ts).
 */
export async function ensureConsumer(
  bus: EventBus,
  durable: string,
  subjects: readonly string[],
  startSeq?: number,
): Promise<void> {
  await bus.jsm.consumers.add(bus.stream, {
    durable_name: durable,
    ack_policy: AckPolicy.Explicit,
    ...(startSeq === undefined
      ? { deliver_policy: DeliverPolicy.All }
      : { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: startSeq }),
    filter_subjects: [...subjects],
    ack_wait: nanos(30_000),
    max_deliver: -1,
  });
}

/**
 * Publishes one event and waits for the stream's ack; `msgId` makes a re-publish a no-op (`duplicate`).
 * It goes in the trace it was written in (`trace`), as a producer span whose context it carries in
 * its `traceparent` (and `tracestate`) header.
 */
export function publishEvent(
  bus: EventBus,
  event: OutgoingEvent & { trace?: TraceContext },
): Promise<{ duplicate: boolean }> {
  return inProducerSpan(event, async (traceHeaders) => {
    const entries = Object.entries(traceHeaders);
    const h = entries.length > 0 ? natsHeaders() : undefined;
    for (const [name, value] of entries) h!.set(name, value);
    const ack = await bus.js.publish(event.subject, JSON.stringify(event.data), {
      msgID: event.msgId,
      ...(h ? { headers: h } : {}),
    });
    return { duplicate: ack.duplicate };
  });
}

/** JetStream's JSStreamSubjectOverlapErr: another stream already captures one of the subjects. */
const SUBJECT_OVERLAP = 10065;

function isSubjectOverlap(err: unknown): boolean {
  return (err as { api_error?: { err_code?: number } }).api_error?.err_code === SUBJECT_OVERLAP;
}

/** JetStream's stream not found (10059) or consumer not found (10014). */
export function isNotFound(err: unknown): boolean {
  const e = err as { code?: string; api_error?: { err_code?: number } };
  return e.api_error?.err_code === 10059 || e.api_error?.err_code === 10014 || e.code === '404';
}
