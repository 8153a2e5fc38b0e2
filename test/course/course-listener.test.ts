/**
 * The course author's own `Listener` and `Publisher` (`@sgtickets/common` 1.0.24, unmodified), on
 * `nats-streaming-jetstream` and a real nats-server, keep what a course service relies on: a queue
 * group shares the messages, a durable name resumes where it left off, a message that is not acked
 * comes back after `ackWait`. And the orders service shares its stream with a course service that
 * started first.
 */
import { Listener, Publisher, Subjects, type TicketCreatedEvent } from '@sgtickets/common';
import type { Message, Stan } from 'node-nats-streaming';
import { connectEventBus, FENCE_SUBJECT } from '../../src/events/jetstream';
import { createLogger } from '../../src/logger';
import { ALL_SUBJECTS } from '../../src/orders/catalogue';
import { startTestNats, type TestNats } from '../support/nats';
import { newId } from '../support/orders';
import { closeAllStans, closeStan, eventually, inspector, openStan } from './stan-helpers';

type Ticket = TicketCreatedEvent['data'];

class TicketCreatedPublisher extends Publisher<TicketCreatedEvent> {
  subject: Subjects.TicketCreated = Subjects.TicketCreated;
}

/** The orders service's ticket:created listener, as the course writes it; `ack` decides each message. */
class TicketCreatedListener extends Listener<TicketCreatedEvent> {
  subject: Subjects.TicketCreated = Subjects.TicketCreated;
  queueGroupName = 'orders-service';
  readonly received: Array<{ id: string; redelivered: boolean }> = [];
  constructor(
    client: Stan,
    private readonly ack: (data: Ticket, msg: Message) => boolean = () => true,
    ackWaitMs?: number,
  ) {
    super(client);
    if (ackWaitMs) this.ackWait = ackWaitMs;
  }
  onMessage(data: Ticket, msg: Message) {
    this.received.push({ id: data.id, redelivered: msg.isRedelivered() });
    if (this.ack(data, msg)) msg.ack();
  }
}

const silent = createLogger('test-bus', { level: 'silent', format: 'json' });
const ticket = (): Ticket => ({ id: newId(), version: 0, title: 'concert', price: 10, userId: newId() });
const ids = (l: TicketCreatedListener) => l.received.map((r) => r.id);

// A nats-server of its own for each test: the course's listeners have fixed subjects, and JetStream
// lets one stream only capture a subject, so tests on one server would share streams and consumers.
let nats: TestNats | undefined;

beforeAll(() => {
  jest.spyOn(console, 'log').mockImplementation(() => undefined); // the course's classes log every message
});

beforeEach(async () => {
  nats = await startTestNats();
});

afterEach(async () => {
  try {
    await closeAllStans();
  } finally {
    await nats?.stop();
    nats = undefined;
  }
});

/** The course's cluster id. */
const CLUSTER = 'ticketing';

async function publishAll(stan: Stan, count: number): Promise<string[]> {
  const tickets = Array.from({ length: count }, ticket);
  for (const t of tickets) await new TicketCreatedPublisher(stan).publish(t);
  return tickets.map((t) => t.id);
}

test('when two members of one queue group listen, then each message goes to exactly one of them', async () => {
  const publisher = await openStan(nats!.url, CLUSTER, 'tickets');
  const a = new TicketCreatedListener(await openStan(nats!.url, CLUSTER, 'orders-a'));
  const b = new TicketCreatedListener(await openStan(nats!.url, CLUSTER, 'orders-b'));
  a.listen();
  b.listen();

  const published = await publishAll(publisher, 40);

  await eventually(
    () => Promise.resolve(a.received.length + b.received.length >= 40 || undefined),
    'all 40 to be received',
  );
  expect([...ids(a), ...ids(b)].sort()).toEqual([...published].sort());
});

test('when a listener restarts with its durable name, then it gets what was published while it was down, and nothing twice', async () => {
  const publisher = await openStan(nats!.url, CLUSTER, 'tickets');
  const first = await openStan(nats!.url, CLUSTER, 'orders-1');
  const before = new TicketCreatedListener(first);
  before.listen();
  const early = await publishAll(publisher, 5);
  await eventually(() => Promise.resolve(before.received.length === 5 || undefined), 'the first five');
  await closeStan(first);

  const late = await publishAll(publisher, 5); // while no member of the group listens
  const after = new TicketCreatedListener(await openStan(nats!.url, CLUSTER, 'orders-2'));
  after.listen();

  await eventually(() => Promise.resolve(after.received.length >= 5 || undefined), 'the five published meanwhile');
  expect(ids(before)).toEqual(early);
  await publishAll(publisher, 1); // a marker: once it is in, anything replayed before it would be too
  await eventually(() => Promise.resolve(after.received.length >= 6 || undefined), 'the marker');
  // No gap and no replay; the order may differ: one message may have reached the closing client,
  // which handed it back (as NATS Streaming redelivered a queue member's unacked messages).
  expect(ids(after).slice(0, 5).sort()).toEqual([...late].sort());
  expect(after.received).toHaveLength(6);
});

test('when a listener does not ack a message, then it comes back after ackWait, redelivered, and the others flow meanwhile', async () => {
  const publisher = await openStan(nats!.url, CLUSTER, 'tickets');
  const [poison, ...others] = await publishAll(publisher, 3);
  const listener = new TicketCreatedListener(
    await openStan(nats!.url, CLUSTER, 'orders'),
    (data, msg) => data.id !== poison || msg.isRedelivered(), // the first delivery of one message is not acked
    1000,
  );
  listener.listen();

  await eventually(
    () => Promise.resolve(listener.received.some((r) => r.id === poison && r.redelivered) || undefined),
    'the unacked message to come back',
  );
  expect(listener.received.filter((r) => r.id === poison)).toEqual([
    { id: poison, redelivered: false },
    { id: poison, redelivered: true },
  ]);
  expect(listener.received.filter((r) => r.id !== poison).map((r) => r.id)).toEqual(others);
});

test('when a course service creates the stream first, then the orders service adds its subjects to it and keeps what it holds', async () => {
  const publisher = await openStan(nats!.url, 'ticketing', 'tickets'); // the course's cluster id
  const [early] = await publishAll(publisher, 1);

  const bus = await connectEventBus(nats!.url, 'ticketing', 'orders-test', silent);
  try {
    const info = await bus.jsm.streams.info('ticketing');
    expect([...info.config.subjects].sort()).toEqual([...ALL_SUBJECTS, FENCE_SUBJECT].sort());
    const stored = await bus.jsm.streams.getMessage('ticketing', { seq: 1 });
    expect(stored.json<Ticket>().id).toBe(early);
  } finally {
    await bus.close();
  }
});

test('when a course service on another cluster id holds some subjects, then the orders service refuses to start and says what to set', async () => {
  const publisher = await openStan(nats!.url, 'elsewhere', 'tickets');
  await publishAll(publisher, 1);
  const { nc, jsm } = await inspector(nats!.url);
  try {
    await expect(connectEventBus(nats!.url, 'orders-own', 'orders-test', silent)).rejects.toThrow(
      /already captures ticket:created \(stream elsewhere\).*set NATS_STREAM/,
    );
    expect(await jsm.streams.find('order:created').catch(() => 'none')).toBe('none'); // nothing half-made
  } finally {
    await nc.close();
  }
});
