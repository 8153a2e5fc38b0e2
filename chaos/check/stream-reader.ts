/** Every message on the JetStream stream, from sequence 1 to the last (an ordered consumer), and the durable consumers' backlog. */
import type { NatsConnection } from 'nats';

export interface StreamMessage {
  seq: number;
  subject: string;
  /** The stream's own timestamp: when the message was published, as the service can know it. */
  at: number;
  msgId: string | undefined;
  text: string;
  /** The payload parsed as JSON; undefined when it does not parse. */
  data: Record<string, unknown> | undefined;
}

export interface ConsumerBacklog {
  name: string;
  pending: number;
  ackPending: number;
  redelivered: number;
  /** Every message up to this stream sequence is acknowledged. */
  ackFloor: number;
  subjects: string[];
}

export const STREAM = 'ticketing';
export const DURABLE_CONSUMERS = ['orders-tickets', 'orders-payments'];

export async function readStream(nc: NatsConnection): Promise<StreamMessage[]> {
  const jsm = await nc.jetstreamManager();
  const { state } = await jsm.streams.info(STREAM);
  if (state.messages === 0) return [];
  const consumer = await nc.jetstream().consumers.get(STREAM);
  const messages: StreamMessage[] = [];
  const iterator = await consumer.consume();
  for await (const m of iterator) {
    const text = m.string();
    messages.push({
      seq: m.seq,
      subject: m.subject,
      at: m.info.timestampNanos / 1e6,
      msgId: m.headers?.get('Nats-Msg-Id') || undefined,
      text,
      data: parseObject(text),
    });
    if (m.info.pending === 0) break;
  }
  await iterator.close();
  return messages;
}

export async function readConsumerBacklogs(nc: NatsConnection): Promise<ConsumerBacklog[]> {
  const jsm = await nc.jetstreamManager();
  return Promise.all(
    DURABLE_CONSUMERS.map(async (name) => {
      const info = await jsm.consumers.info(STREAM, name);
      return {
        name,
        pending: info.num_pending,
        ackPending: info.num_ack_pending,
        redelivered: info.num_redelivered,
        ackFloor: info.ack_floor.stream_seq,
        subjects: info.config.filter_subjects ?? (info.config.filter_subject ? [info.config.filter_subject] : []),
      };
    }),
  );
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
