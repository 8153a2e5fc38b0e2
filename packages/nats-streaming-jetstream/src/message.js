'use strict';
const { Buffer } = require('node:buffer');

/** A message as node-nats-streaming hands it to a subscription's 'message' listeners. */
class Message {
  /**
   * @param {import('nats').JsMsg} msg
   * @param {string} encoding the connection's `stanEncoding`: 'binary' makes getData() a Buffer
   */
  constructor(msg, encoding) {
    this.msg = msg;
    this.encoding = encoding;
  }
  getSubject() {
    return this.msg.subject;
  }
  /** The stream's sequence: the channel's own only when the stream captures this subject alone. */
  getSequence() {
    return this.msg.info.streamSequence;
  }
  getRawData() {
    return Buffer.from(this.msg.data.buffer, this.msg.data.byteOffset, this.msg.data.byteLength);
  }
  /** A string (utf-8 unless `stanEncoding` says otherwise), as node-nats-streaming returns. */
  getData() {
    const raw = this.getRawData();
    return this.encoding === 'binary' ? raw : raw.toString(/** @type {BufferEncoding} */ (this.encoding));
  }
  /** Nanoseconds since the epoch when the stream stored the message (a number: not exact past 2^53). */
  getTimestampRaw() {
    return this.msg.info.timestampNanos;
  }
  getTimestamp() {
    return new Date(Math.floor(this.getTimestampRaw() / 1e6));
  }
  isRedelivered() {
    return this.msg.redelivered;
  }
  /** JetStream keeps no CRC32 per message; node-nats-streaming's was optional (0 when absent). */
  getCrc32() {
    return 0;
  }
  /** Also after the subscription closed (unlike NATS Streaming): a handled message is not redelivered. */
  ack() {
    try {
      this.msg.ack();
    } catch {
      // The connection is closed: the ack is lost and the message comes again, as on a NATS Streaming outage.
    }
  }
}

module.exports = { Message };
