'use strict';
const { Buffer } = require('node:buffer');
const { EventEmitter } = require('node:events');
const { connect: natsConnect, DebugEvents, Events, nuid } = require('nats');
const { StreamResolver } = require('./streams');
const { SubscriptionOptions } = require('./options');
const { Subscription } = require('./subscription');
const { natsOptions, parseOptions } = require('./connect-options');
const { CONN_CLOSED, emitError, isNoResponders, toError } = require('./util');

/**
 * @typedef {import('./subscription').Connection & { nc: import('nats').NatsConnection }} Connection
 * @typedef {import('../index').StanOptions} StanOptions
 * @typedef {(err: Error | undefined, guid: string) => void} AckHandlerCallback
 */

/**
 * A NATS Streaming connection: one NATS connection and its JetStream context. Events: 'connect',
 * 'error', 'close', 'disconnect', 'reconnecting' and 'reconnect', as node-nats-streaming's.
 */
class Stan extends EventEmitter {
  /**
   * @param {string} clusterID names this package's own stream, used only for subjects no stream captures
   * @param {string} clientID the NATS connection's name; part of a plain durable's identity
   * @param {StanOptions | string | number} [opts]
   */
  constructor(clusterID, clientID, opts) {
    super();
    this.clusterID = clusterID;
    this.clientID = clientID;
    this.options = parseOptions(opts);
    this.encoding = this.options.stanEncoding ?? 'utf8';
    this.closed = false;
    this.closeEmitted = false;
    /** @type {Set<Subscription>} */
    this.subs = new Set();
    this.ready = this.open();
    this.ready.catch(() => undefined); // reported as 'error' then 'close'; publish and subscribe report it again
  }

  /** @returns {Promise<Connection>} */
  async open() {
    /** @type {Connection} */
    let conn;
    try {
      const nc = this.options.nc ?? (await natsConnect(natsOptions(this.options, this.clientID)));
      const jsm = await nc.jetstreamManager(); // fails here, not at the first publish, without JetStream
      conn = { nc, js: nc.jetstream(), jsm, streams: new StreamResolver(jsm, this.clusterID) };
    } catch (err) {
      this.closed = true;
      emitError(this, toError(err));
      this.emitClose();
      throw err;
    }
    this.watch(conn.nc);
    if (this.closed) return conn; // close() was called while connecting: it shuts this down, unannounced
    try {
      this.emit('connect', this);
    } catch (err) {
      emitError(this, toError(err)); // a listener's failure is not the connection's
    }
    return conn;
  }

  /** @param {import('nats').NatsConnection} nc */
  watch(nc) {
    void (async () => {
      for await (const s of nc.status()) {
        if (s.type === Events.Disconnect) this.emit('disconnect');
        else if (s.type === Events.Reconnect) this.emit('reconnect', this);
        else if (s.type === DebugEvents.Reconnecting) this.emit('reconnecting');
        else if (s.type === Events.Error) emitError(this, toError(s.data));
      }
    })();
    // Closed by close() or after the last reconnect attempt: either way the client is done.
    void nc.closed().then((err) => {
      this.closed = true;
      for (const sub of this.subs) void sub.end(false, undefined);
      if (err) emitError(this, err);
      this.emitClose();
    });
  }

  /**
   * Publishes to the stream that captures the subject, with the guid as JetStream's `Nats-Msg-Id`
   * so that a retried publish is stored once. The callback has the stream's ack, or its error.
   * @param {string} subject
   * @param {Uint8Array | string | Buffer} [data]
   * @param {AckHandlerCallback} [callback]
   * @returns {string} the guid
   */
  publish(subject, data, callback) {
    const guid = nuid.next();
    if (this.closed) {
      if (!callback) throw new Error(CONN_CLOSED);
      callback(new Error(CONN_CLOSED), guid);
      return guid;
    }
    const payload = typeof data === 'string' ? Buffer.from(data, 'utf8') : (data ?? new Uint8Array(0));
    /** @param {Error | undefined} err */
    const done = (err) => {
      try {
        if (callback) callback(err, guid);
        else if (err) emitError(this, err);
      } catch (thrown) {
        emitError(this, toError(thrown));
      }
    };
    this.publishNow(subject, payload, guid).then(
      () => done(undefined),
      (err) => done(toError(err)),
    );
    return guid;
  }

  /** @param {string} subject @param {Uint8Array} payload @param {string} guid */
  async publishNow(subject, payload, guid) {
    const { js, streams } = await this.ready;
    const send = () => js.publish(subject, payload, { msgID: guid, timeout: this.options.ackTimeout ?? 30_000 });
    await streams.streamFor(subject);
    try {
      await send();
    } catch (err) {
      if (!isNoResponders(err)) throw err;
      // The stream was deleted or stopped capturing the subject since it was looked up: once more.
      streams.forget(subject);
      await streams.streamFor(subject);
      await send();
    }
  }

  subscriptionOptions() {
    return new SubscriptionOptions();
  }

  /**
   * @param {string} subject
   * @param {string | import('./options').SubOpts} [qGroup]
   * @param {import('./options').SubOpts} [options]
   */
  subscribe(subject, qGroup, options) {
    const group = typeof qGroup === 'string' && qGroup !== '' ? qGroup : undefined;
    const opts = options ?? (typeof qGroup === 'object' ? qGroup : undefined) ?? new SubscriptionOptions();
    const sub = new Subscription(this.owner(), subject, group, opts);
    if (!this.closed) this.subs.add(sub);
    return sub;
  }

  /** @returns {import('./subscription').Owner} */
  owner() {
    const ready = this.closed ? Promise.reject(new Error(CONN_CLOSED)) : this.ready;
    ready.catch(() => undefined); // the subscription reports it, unless it fails earlier (a bad subject)
    return {
      clientID: this.clientID,
      encoding: this.encoding,
      ready,
      isClosed: () => this.closed,
      forget: (sub) => this.subs.delete(sub),
    };
  }

  isClosed() {
    return this.closed;
  }

  /** Once: a connection it was given may close later too. */
  emitClose() {
    if (this.closeEmitted) return;
    this.closeEmitted = true;
    this.emit('close');
  }

  /** Stops the subscriptions (durables keep their position), then closes; 'close' follows. */
  close() {
    if (this.closed) return;
    this.closed = true;
    void this.ready.then(
      (conn) => this.shutdown(conn),
      () => undefined,
    );
  }

  /** @param {Connection} conn */
  async shutdown(conn) {
    await Promise.all([...this.subs].map((sub) => sub.end(!sub.qGroup && !sub.opts.durableName, undefined)));
    // A connection it was given stays open.
    if (this.options.nc) this.emitClose();
    else await conn.nc.close().catch((err) => emitError(this, toError(err)));
  }
}

module.exports = { Stan };
