'use strict';
const { EventEmitter } = require('node:events');
const { ConsumerEvents, nanos, nuid } = require('nats');
const { Message } = require('./message');
const { consumerConfig } = require('./options');
const { BAD_SUBJECT, BAD_SUBSCRIPTION, CONN_CLOSED, emitError, isNotFound, jetStreamName, toError } = require('./util');

/**
 * @typedef {import('nats').JetStreamManager} JetStreamManager
 * @typedef {import('nats').JsMsg} JsMsg
 * @typedef {import('./options').SubOpts} SubOpts
 * @typedef {{ js: import('nats').JetStreamClient; jsm: JetStreamManager; streams: import('./streams').StreamResolver }} Connection
 * @typedef {{ clientID: string; encoding: string; ready: Promise<Connection>; isClosed(): boolean; forget(sub: Subscription): void }} Owner
 */

/** How long a non-durable consumer outlives its last member (a crash included) before JetStream drops it. */
const INACTIVE_THRESHOLD_MS = 60_000;

/**
 * A NATS Streaming subscription as one JetStream pull consumer, named from what NATS Streaming
 * keys it by, so that every member of a queue group, in any process, pulls from the same one and
 * each message goes to one member; and a durable resumes from its acknowledgements after a restart.
 */
class Subscription extends EventEmitter {
  /**
   * @param {Owner} owner
   * @param {string} subject
   * @param {string | undefined} qGroup
   * @param {SubOpts} opts
   */
  constructor(owner, subject, qGroup, opts) {
    super();
    this.owner = owner;
    this.subject = subject;
    this.qGroup = qGroup;
    this.opts = opts;
    this.closed = false;
    /** @type {{ jsm: JetStreamManager; stream: string; name: string } | undefined} */
    this.consumer = undefined;
    /** @type {import('nats').ConsumerMessages | undefined} */
    this.messages = undefined;
    // Asynchronous: the caller attaches its listeners before any event, as with node-nats-streaming.
    this.started = this.start().catch((err) => {
      this.closed = true;
      owner.forget(this);
      emitError(this, toError(err));
    });
  }

  async start() {
    if (typeof this.subject !== 'string' || this.subject === '') throw new Error(BAD_SUBJECT);
    const conn = await this.owner.ready;
    const stream = await conn.streams.streamFor(this.subject);
    const { name, durable } = this.identity();
    const cfg = {
      ...consumerConfig(this.opts, this.subject),
      ...(durable ? { durable_name: name } : { name, inactive_threshold: nanos(INACTIVE_THRESHOLD_MS) }),
    };
    await ensureConsumer(conn.jsm, stream, name, cfg);
    this.consumer = { jsm: conn.jsm, stream, name };
    if (this.closed) return;
    const consumer = await conn.js.consumers.get(stream, name);
    const maxMessages = Math.min(100, this.opts.maxInFlight || 100);
    this.messages = await consumer.consume({ callback: (m) => this.deliver(m), max_messages: maxMessages });
    void this.watch(this.messages);
    if (this.closed) return;
    try {
      this.emit('ready');
    } catch (err) {
      emitError(this, toError(err));
    }
  }

  /**
   * NATS Streaming keys a durable queue group by (durable name, group), a plain durable by
   * (durable name, client ID), both per channel; anything else is this subscription's alone.
   */
  identity() {
    const durableName = this.opts.durableName ?? '';
    if (this.qGroup)
      return { durable: durableName !== '', name: jetStreamName([this.qGroup, durableName, this.subject]) };
    if (durableName) return { durable: true, name: jetStreamName([durableName, this.owner.clientID, this.subject]) };
    return { durable: false, name: jetStreamName(['sub', this.owner.clientID, nuid.next()]) };
  }

  /** @param {JsMsg} m */
  deliver(m) {
    if (this.closed) {
      m.nak(); // handed back at once, to another member or the next start, not after ackWait
      return;
    }
    const msg = new Message(m, this.owner.encoding);
    try {
      this.emit('message', msg);
    } catch (err) {
      emitError(this, toError(err)); // as node-nats-streaming: a listener that throws gets no auto-ack
      return;
    }
    if (!this.opts.manualAcks) msg.ack();
  }

  /** @param {import('nats').ConsumerMessages} messages */
  async watch(messages) {
    for await (const s of await messages.status()) {
      const gone = [ConsumerEvents.ConsumerDeleted, ConsumerEvents.ConsumerNotFound, ConsumerEvents.StreamNotFound];
      // Not-found repeats while nats.js retries: reported once per outage, on its first attempt.
      if (gone.includes(/** @type {ConsumerEvents} */ (s.type)) && (s.data === 1 || typeof s.data !== 'number'))
        emitError(this, new Error(`nats-streaming-jetstream: ${s.type} (${this.consumer?.name ?? this.subject})`));
    }
  }

  /**
   * Stops delivery; `remove` also deletes the consumer (its position with it).
   * @param {boolean} remove
   * @param {'closed' | 'unsubscribed' | undefined} event what to emit once done (none when the connection closes)
   */
  end(remove, event) {
    if (this.closed) {
      if (event) emitError(this, new Error(this.owner.isClosed() ? CONN_CLOSED : BAD_SUBSCRIPTION));
      return Promise.resolve();
    }
    this.closed = true;
    this.owner.forget(this);
    return this.started
      .then(async () => {
        await this.messages?.close();
        const c = this.consumer;
        if (remove && c) await c.jsm.consumers.delete(c.stream, c.name).catch(ignoreNotFound);
        if (event) this.emit(event);
      })
      .catch((err) => emitError(this, toError(err)));
  }

  /** Stops this member; a durable keeps its position, anything else is removed. */
  close() {
    void this.end(!this.qGroup && !this.opts.durableName, 'closed');
  }

  /**
   * Removes the subscription, its durable position included. A queue group's consumer is kept:
   * NATS Streaming removed it with its last member, and no member here knows whether it is the last.
   */
  unsubscribe() {
    void this.end(!this.qGroup, 'unsubscribed');
  }

  isClosed() {
    return this.closed;
  }
}

/**
 * Creates the consumer unless it exists. An existing one is used as it is, never updated: its
 * position and configuration stay those of its first subscription, as a NATS Streaming durable's.
 * @param {JetStreamManager} jsm
 * @param {string} stream
 * @param {string} name
 * @param {Partial<import('nats').ConsumerConfig>} cfg
 */
async function ensureConsumer(jsm, stream, name, cfg) {
  if (await consumerExists(jsm, stream, name)) return;
  try {
    await jsm.consumers.add(stream, cfg);
  } catch (err) {
    if (!(await consumerExists(jsm, stream, name))) throw err; // else another member created it first
  }
}

/** @param {JetStreamManager} jsm @param {string} stream @param {string} name */
function consumerExists(jsm, stream, name) {
  return jsm.consumers.info(stream, name).then(() => true, ignoreNotFound);
}

/** @param {unknown} err @returns {false} */
function ignoreNotFound(err) {
  if (isNotFound(err)) return false;
  throw err;
}

module.exports = { Subscription };
