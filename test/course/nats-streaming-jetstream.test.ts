/**
 * nats-streaming-jetstream, the node-nats-streaming API on JetStream that the course's services
 * (through @sgtickets/common's Listener and Publisher) use, on a real nats-server.
 * Each test has its own cluster id (so its own stream) and subjects.
 */
import { StorageType, type JetStreamManager, type NatsConnection } from 'nats';
import { connect, type Message } from '../../packages/nats-streaming-jetstream';
import { freePort } from '../../scripts/lib/servers';
import { startTestNats, type TestNats } from '../support/nats';
import * as h from './stan-helpers';

let nats: TestNats | undefined;
let nc: NatsConnection | undefined;
let jsm: JetStreamManager;

beforeAll(async () => {
  nats = await startTestNats();
  ({ nc, jsm } = await h.inspector(nats.url));
});

afterAll(async () => {
  try {
    await h.closeAllStans();
    await nc?.close();
  } finally {
    await nats?.stop();
  }
});

const url = () => nats!.url.replace('nats://', 'http://'); // as the course writes it: the scheme is ignored

test('creates a stream of its own when none captures the subject, and delivers what node-nats-streaming did', async () => {
  const stan = await h.openStan(url(), 'course-a', 'tickets-1');
  const got = await h.listen(stan, 'ticket:created', 'orders-service');

  let acked: [Error | undefined, string] | undefined;
  const guid = stan.publish('ticket:created', JSON.stringify({ id: 't1' }), (err, g) => (acked = [err, g]));
  await h.eventually(async () => acked, 'the publish callback');
  expect(acked).toEqual([undefined, guid]);
  await new Promise((stored) => stan.publish('ticket:updated', Buffer.from('{"id":"t1","version":1}'), stored));

  const [m] = await h.eventually(async () => (got.messages.length ? got.messages : undefined), 'the message');
  const seen = [m!.getData(), m!.getRawData().toString(), m!.getSubject(), m!.getSequence(), m!.isRedelivered()];
  expect(seen).toEqual(['{"id":"t1"}', '{"id":"t1"}', 'ticket:created', 1, false]);
  const stored = await jsm.streams.getMessage('course-a', { seq: 1 });
  expect(Math.abs(m!.getTimestamp().getTime() - stored.time.getTime())).toBeLessThanOrEqual(1);
  expect(m!.getTimestampRaw()).toBeGreaterThan(stored.time.getTime() * 1e6 - 1e6);
  expect(stored.header.get('Nats-Msg-Id')).toBe(guid);

  const info = await jsm.streams.info('course-a'); // both subjects in the own stream
  expect(info.config.subjects).toEqual(['ticket:created', 'ticket:updated']);
  expect(info.config.storage).toBe(StorageType.File);
});

test('uses the stream that captures the subject as it is, never reconfigured', async () => {
  await jsm.streams.add({ name: 'TICKETING', subjects: ['order:created', 'order:cancelled'], max_msgs: 1000 });
  const before = (await jsm.streams.info('TICKETING')).config;
  const stan = await h.openStan(url(), 'course-b', 'orders-1');
  await h.publish(stan, 'order:created', { id: 'o1' });
  const got = await h.record(stan.subscribe('order:created', 'payments-service', h.listenerOptions(stan, 'payments')));
  await h.until(() => got.messages.length === 1, 'the order');
  expect((await jsm.streams.info('TICKETING')).config).toEqual(before);
  await expect(jsm.streams.info('course-b')).rejects.toThrow(/not found/);
});

test('a queue group shares the messages among its members; every group gets all of them', async () => {
  const a = await h.openStan(url(), 'course-c', 'payments-a');
  const b = await h.openStan(url(), 'course-c', 'payments-b');
  const subject = 'order:reserved';
  const [m1, m2, other] = await Promise.all([
    h.listen(a, subject, 'payments-service'),
    h.listen(b, subject, 'payments-service'),
    h.listen(a, subject, 'tickets-service'),
  ]);
  const stream = await jsm.streams.find(subject);
  const names = await h.consumerNames(jsm, stream);
  const pulling = async () => ((await jsm.consumers.info(stream, names[0]!)).num_waiting >= 2 ? true : undefined);
  await h.eventually(pulling, 'both members to pull'); // else the first could take every message
  const sent = Array.from({ length: 40 }, (_, i) => `{"n":${i}}`);
  await Promise.all(sent.map((d) => h.publish(a, subject, JSON.parse(d))));
  await h.until(() => m1.messages.length + m2.messages.length >= 40, 'the group');
  await h.until(() => other.messages.length >= 40, 'the other group');
  expect([...m1.data(), ...m2.data()].sort()).toEqual([...sent].sort()); // each message to one member
  expect(m1.messages.length).toBeGreaterThan(0);
  expect(m2.messages.length).toBeGreaterThan(0);
  expect(names).toHaveLength(2); // one consumer per (group, subject), named from them
  expect(names[0]).toMatch(/^payments-service_order_reserved_[0-9a-f]{8}$/);
});

test('a durable resumes where its group left off after a restart, and its consumer is reused as it is', async () => {
  const publisher = await h.openStan(url(), 'course-d', 'tickets-1');
  const first = await h.openStan(url(), 'course-d', 'orders-1');
  const before = await h.listen(first, 'ticket:repriced', 'orders-service');
  for (const n of [1, 2, 3]) await h.publish(publisher, 'ticket:repriced', { n });
  await h.until(() => before.messages.length === 3, 'the first three');
  const [name] = await h.consumerNames(jsm, 'course-d');
  const consumer = await h.allAcked(jsm, 'course-d', name!);
  await h.closeStan(first); // the service restarts

  for (const n of [4, 5, 6]) await h.publish(publisher, 'ticket:repriced', { n });
  const second = await h.openStan(url(), 'course-d', 'orders-2');
  const after = await h.listen(second, 'ticket:repriced', 'orders-service', 1000); // another ackWait
  await h.until(() => after.messages.length >= 3, 'the next three');
  await h.allAcked(jsm, 'course-d', name!);
  expect(after.data()).toEqual(['{"n":4}', '{"n":5}', '{"n":6}']); // in order: a replay would come first
  const reused = await jsm.consumers.info('course-d', name!);
  expect([reused.created, reused.config.ack_wait]).toEqual([consumer.created, 5_000_000_000]);
});

test('a message not acked within ackWait comes again, redelivered, without holding up the rest', async () => {
  const stan = await h.openStan(url(), 'course-e', 'payments-1');
  const opts = h.listenerOptions(stan, 'payments-service', 1000).setMaxInFlight(2);
  const redelivered: Message[] = [];
  const got = await h.record(stan.subscribe('order:refunded', 'payments-service', opts), (m) => {
    if (m.getData() !== '"poison"') m.ack();
    else if (m.isRedelivered()) redelivered.push(m);
  });
  for (const d of ['poison', 'a', 'b', 'c']) await h.publish(stan, 'order:refunded', d);
  await h.until(() => got.messages.length >= 4 && redelivered.length > 0, 'a redelivery');
  expect(got.data().filter((d) => d !== '"poison"')).toEqual(['"a"', '"b"', '"c"']);
  redelivered[0]!.ack();
  const [name] = await h.consumerNames(jsm, 'course-e');
  const info = await h.allAcked(jsm, 'course-e', name!);
  expect([info.config.max_ack_pending, info.config.max_deliver, info.config.ack_wait]).toEqual([2, -1, 1e9]);
});

test('auto-ack mode acks each message after its listeners, unless one throws', async () => {
  const stan = await h.openStan(url(), 'course-f', 'expiration-1');
  const sub = stan.subscribe('expiration:complete', 'orders-service', stan.subscriptionOptions());
  const errors: unknown[] = [];
  sub.on('error', (err) => errors.push(err));
  await h.record(sub, (m) => {
    if (m.getData() === '"bad"') throw new Error('listener failed');
  });
  await h.publish(stan, 'expiration:complete', 'ok');
  const [name] = await h.consumerNames(jsm, 'course-f');
  await h.allAcked(jsm, 'course-f', name!);
  await h.publish(stan, 'expiration:complete', 'bad');
  await h.until(() => errors.length > 0, "the listener's error");
  expect((await jsm.consumers.info('course-f', name!)).num_ack_pending).toBe(1);
});

test('start positions: all for a new consumer, new only by default, at a sequence, a time or the last', async () => {
  const stan = await h.openStan(url(), 'course-g', 'client-g');
  for (const d of ['m1', 'm2']) await h.publish(stan, 'payment:created', d);
  // setStartTime takes a Date (milliseconds): m3 must be stored in a later millisecond than m2.
  const second = await jsm.streams.getMessage('course-g', { seq: 2 });
  await h.until(() => Date.now() > second.time.getTime(), 'the next millisecond');
  await h.publish(stan, 'payment:created', 'm3');
  const third = await jsm.streams.getMessage('course-g', { seq: 3 });
  const subject = 'payment:created';
  const subs = {
    all: stan.subscribe(subject, stan.subscriptionOptions().setDeliverAllAvailable()),
    newOnly: stan.subscribe(subject),
    sequence: stan.subscribe(subject, stan.subscriptionOptions().setStartAtSequence(2)),
    time: stan.subscribe(subject, stan.subscriptionOptions().setStartTime(third.time)),
    last: stan.subscribe(subject, stan.subscriptionOptions().setStartWithLastReceived()),
  };
  const recs = await Promise.all(Object.values(subs).map((s) => h.record(s)));
  await h.publish(stan, subject, 'm4');
  await h.until(() => recs.every((r) => r.data().includes('"m4"')), 'm4 everywhere');
  expect(recs.map((r) => r.data()[0])).toEqual(['"m1"', '"m4"', '"m2"', '"m3"', '"m3"']);
  expect(recs[0]!.data()).toEqual(['"m1"', '"m2"', '"m3"', '"m4"']);

  // Not durable: closing removes their consumers, as NATS Streaming forgot such subscriptions.
  const closed = Object.values(subs).map((s) => new Promise((r) => s.once('closed', r)));
  Object.values(subs).forEach((s) => s.close());
  await Promise.all(closed);
  expect(await h.consumerNames(jsm, 'course-g')).toEqual([]);
});

test('an error event nobody listens to is logged, not thrown', async () => {
  const logged = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  try {
    const stan = connect('course-h', 'client-h', { url: `nats://127.0.0.1:${await freePort()}` });
    await new Promise((r) => stan.once('close', r)); // nobody can connect there
    stan.subscribe('ticket:created', 'orders-service'); // on a closed client: an error, to nobody
    await h.until(() => logged.mock.calls.length >= 2, 'both errors logged');
    expect(String(logged.mock.calls[1]![1])).toMatch(/Connection closed/);
  } finally {
    logged.mockRestore();
  }
});

test('reconnects after the server restarts and goes on delivering, as a course service expects', async () => {
  const stan = await h.openStan(url(), 'course-i', 'orders-i');
  const events: string[] = [];
  stan.on('disconnect', () => events.push('disconnect'));
  stan.on('reconnect', () => events.push('reconnect'));
  const got = await h.listen(stan, 'ticket:restocked', 'orders-service');
  await h.publish(stan, 'ticket:restocked', 1);
  await h.until(() => got.messages.length === 1, 'the first message');
  await nats!.pause();
  await nats!.resume();
  await h.until(() => events.includes('reconnect'), 'the reconnect');
  await h.publish(stan, 'ticket:restocked', 2);
  await h.until(() => got.messages.length === 2, 'the message after the restart');
  expect(events.slice(0, 2)).toEqual(['disconnect', 'reconnect']);
});
