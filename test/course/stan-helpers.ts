/** Helpers for the nats-streaming-jetstream tests: connections that are closed at the end, recorders. */
import { connect as natsConnect, type ConsumerInfo, type JetStreamManager, type NatsConnection } from 'nats';
import { eventually } from '../../scripts/lib/eventually';
import { connect, type Message, type Stan, type Subscription } from '../../packages/nats-streaming-jetstream';

export { eventually };

/** Waits until `ready()` holds, polling; fails after 10 s. */
export function until(ready: () => boolean, what: string): Promise<true> {
  return eventually(async () => (ready() ? true : undefined), what, 10_000);
}

/** The options @sgtickets/common's Listener subscribes with. */
export function listenerOptions(stan: Stan, group: string, ackWait = 5000) {
  return stan
    .subscriptionOptions()
    .setDeliverAllAvailable()
    .setManualAckMode(true)
    .setAckWait(ackWait)
    .setDurableName(group);
}

/** Every client the tests open, so that afterAll closes them whatever happened. */
const opened: Stan[] = [];

/** Connects as a course service does (`connect(cluster, client, { url })`) and waits for 'connect'. */
export function openStan(url: string, clusterId: string, clientId: string): Promise<Stan> {
  const stan = connect(clusterId, clientId, { url });
  opened.push(stan);
  stan.once('close', () => opened.splice(opened.indexOf(stan), 1)); // closed by its test: nothing left to close
  return new Promise((resolve, reject) => {
    stan.once('connect', () => resolve(stan));
    stan.once('error', reject);
  });
}

/** Closes a client and waits for its 'close'. */
export function closeStan(stan: Stan): Promise<void> {
  return new Promise((resolve) => {
    stan.once('close', () => resolve());
    stan.close();
  });
}

export async function closeAllStans(): Promise<void> {
  const open = opened.splice(0);
  // A client whose server is already gone may never say 'close': give up on it after 2 s, keeping
  // no timer that holds the jest worker.
  await Promise.all(open.map((s) => Promise.race([closeStan(s), new Promise((r) => setTimeout(r, 2000).unref())])));
}

export interface Recorded {
  messages: Message[];
  /** The payloads in the order they arrived. */
  data(): string[];
}

/** Records a subscription's messages; `onMessage` acks or not, as the test needs. Resolves when 'ready'. */
export function record(sub: Subscription, onMessage: (m: Message) => void = () => undefined): Promise<Recorded> {
  const messages: Message[] = [];
  sub.on('message', (m: Message) => {
    messages.push(m);
    onMessage(m);
  });
  return new Promise((resolve, reject) => {
    sub.once('ready', () => resolve({ messages, data: () => messages.map((m) => String(m.getData())) }));
    sub.once('error', reject);
  });
}

/** Subscribes as @sgtickets/common's Listener does, acking every message. */
export function listen(stan: Stan, subject: string, group: string, ackWait = 5000): Promise<Recorded> {
  return record(stan.subscribe(subject, group, listenerOptions(stan, group, ackWait)), (m) => m.ack());
}

/** Publishes as @sgtickets/common's Publisher does: resolves on the callback's success. */
export function publish(stan: Stan, subject: string, data: unknown): Promise<string> {
  return new Promise((resolve, reject) => {
    stan.publish(subject, JSON.stringify(data), (err, guid) => (err ? reject(err) : resolve(guid)));
  });
}

/** A plain nats.js client to look at streams and consumers from outside. */
export async function inspector(url: string): Promise<{ nc: NatsConnection; jsm: JetStreamManager }> {
  const nc = await natsConnect({ servers: url });
  return { nc, jsm: await nc.jetstreamManager() };
}

/** Waits until the stream's consumers for a subject have acknowledged everything delivered to them. */
export function allAcked(jsm: JetStreamManager, stream: string, name: string): Promise<ConsumerInfo> {
  return eventually(
    async () => {
      const info = await jsm.consumers.info(stream, name);
      return info.num_ack_pending === 0 && info.num_pending === 0 ? info : undefined;
    },
    `consumer ${name} to have acked everything`,
    10_000,
  );
}

export async function consumerNames(jsm: JetStreamManager, stream: string): Promise<string[]> {
  const names: string[] = [];
  for await (const c of jsm.consumers.list(stream)) names.push(c.name);
  return names.sort();
}
