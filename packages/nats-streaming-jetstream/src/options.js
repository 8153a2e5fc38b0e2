'use strict';
const { AckPolicy, DeliverPolicy, nanos } = require('nats');

/**
 * What subscribe() accepts: the declared interface, this module's builder (with its exact start date) or not.
 * @typedef {import('../index').SubscriptionOptions & { startDate?: Date }} SubOpts
 */

/** node-nats-streaming's values (its protobuf enum), for code that compares against them. */
const StartPosition = Object.freeze({
  NEW_ONLY: 0,
  LAST_RECEIVED: 1,
  TIME_DELTA_START: 2,
  SEQUENCE_START: 3,
  FIRST: 4,
});

/** node-nats-streaming's defaults. */
const DEFAULT_MAX_IN_FLIGHT = 16384;
const DEFAULT_ACK_WAIT = 30 * 1000;

/** The builder that `stan.subscriptionOptions()` returns: every setter returns it. */
class SubscriptionOptions {
  constructor() {
    /** @type {string | undefined} */
    this.durableName = undefined;
    this.maxInFlight = DEFAULT_MAX_IN_FLIGHT;
    this.ackWait = DEFAULT_ACK_WAIT;
    /** @type {number} */
    this.startPosition = StartPosition.NEW_ONLY;
    /** @type {number | undefined} */
    this.startSequence = undefined;
    /** @type {number | undefined} nanoseconds before the subscription, as node-nats-streaming keeps it */
    this.startTime = undefined;
    /** @type {boolean | undefined} */
    this.manualAcks = undefined;
    /** @type {Date | undefined} setStartTime's date, kept exact rather than as a delta from now */
    this.startDate = undefined;
  }
  /** @param {number} n */
  setMaxInFlight(n) {
    this.maxInFlight = n;
    return this;
  }
  /** @param {number} millis */
  setAckWait(millis) {
    this.ackWait = millis;
    return this;
  }
  /** @param {number} startPosition */
  setStartAt(startPosition) {
    this.startPosition = startPosition;
    return this;
  }
  /** @param {number} sequence */
  setStartAtSequence(sequence) {
    this.startPosition = StartPosition.SEQUENCE_START;
    this.startSequence = sequence;
    return this;
  }
  /** @param {Date} date */
  setStartTime(date) {
    this.startPosition = StartPosition.TIME_DELTA_START;
    this.startTime = (Date.now() - date.valueOf()) * 1e6;
    this.startDate = date;
    return this;
  }
  /** @param {number} millis */
  setStartAtTimeDelta(millis) {
    this.startPosition = StartPosition.TIME_DELTA_START;
    this.startTime = millis * 1e6;
    this.startDate = undefined;
    return this;
  }
  setStartWithLastReceived() {
    this.startPosition = StartPosition.LAST_RECEIVED;
    return this;
  }
  setDeliverAllAvailable() {
    this.startPosition = StartPosition.FIRST;
    return this;
  }
  /** @param {boolean} tf */
  setManualAckMode(tf) {
    this.manualAcks = tf;
    return this;
  }
  /** @param {string} durableName */
  setDurableName(durableName) {
    this.durableName = durableName;
    return this;
  }
}

/**
 * The JetStream consumer that stands for a NATS Streaming subscription, used only when it does not
 * exist yet: an existing one keeps its position and configuration.
 * - explicit acks, `ack_wait` = ackWait: unacknowledged messages come again, as in NATS Streaming;
 * - `max_deliver` unlimited, as NATS Streaming: a message nobody acks comes back forever, but holds
 *   one of `max_ack_pending` (= maxInFlight, shared by a queue group's members) slots only, so the
 *   rest of the group goes on.
 * @param {SubOpts} o
 * @param {string} subject
 * @returns {Partial<import('nats').ConsumerConfig>}
 */
function consumerConfig(o, subject) {
  return {
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(o.ackWait || DEFAULT_ACK_WAIT),
    max_ack_pending: o.maxInFlight || DEFAULT_MAX_IN_FLIGHT,
    max_deliver: -1,
    filter_subject: subject,
    ...startAt(o),
  };
}

/** @param {SubOpts} o */
function startAt(o) {
  switch (o.startPosition) {
    case StartPosition.FIRST:
      return { deliver_policy: DeliverPolicy.All };
    case StartPosition.LAST_RECEIVED:
      return { deliver_policy: DeliverPolicy.Last };
    case StartPosition.SEQUENCE_START:
      // Stream sequences: the same as the channel's only when the stream captures this subject alone.
      return { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: Math.max(1, o.startSequence ?? 1) };
    case StartPosition.TIME_DELTA_START: {
      const start = o.startDate ?? new Date(Date.now() - (o.startTime ?? 0) / 1e6);
      return { deliver_policy: DeliverPolicy.StartTime, opt_start_time: start.toISOString() };
    }
    default:
      return { deliver_policy: DeliverPolicy.New };
  }
}

module.exports = { StartPosition, SubscriptionOptions, consumerConfig, DEFAULT_MAX_IN_FLIGHT };
