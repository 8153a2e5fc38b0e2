'use strict';
const { StorageType, RetentionPolicy } = require('nats');
const { isNotFound, sanitize } = require('./util');

/** @typedef {import('nats').JetStreamManager} JetStreamManager */

const ATTEMPTS = 5;

/**
 * Finds the JetStream stream that captures a subject (a NATS Streaming channel). A stream that
 * already captures it, whoever made it, is used as it is: never recreated nor reconfigured. Only
 * when none does (a publish or subscribe before the service that owns the events made its stream)
 * is the subject added to this package's own stream, which is created on first need.
 */
class StreamResolver {
  /**
   * @param {JetStreamManager} jsm
   * @param {string} clusterID
   */
  constructor(jsm, clusterID) {
    this.jsm = jsm;
    // Named after the cluster, as a NATS Streaming cluster held its channels. The course's cluster
    // id is `ticketing`, the orders service's stream too (NATS_STREAM): whichever starts first
    // creates it, and the other adds its subjects to it, so the two never overlap.
    this.ownStream = sanitize(clusterID);
    /** @type {Map<string, Promise<string>>} subject -> stream name, looked up once per connection */
    this.cache = new Map();
    /** Changes to the own stream are read-modify-write: one at a time within this client. */
    this.lock = Promise.resolve();
  }

  /**
   * @param {string} subject
   * @returns {Promise<string>}
   */
  streamFor(subject) {
    let found = this.cache.get(subject);
    if (!found) {
      found = this.findOrAdd(subject);
      this.cache.set(subject, found);
      found.catch(() => this.cache.delete(subject)); // a failure is not remembered: the next call retries
    }
    return found;
  }

  /** Forgets a subject's stream, after a publish found none (deleted or changed since). @param {string} subject */
  forget(subject) {
    this.cache.delete(subject);
  }

  /** @param {string} subject */
  async findOrAdd(subject) {
    for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
      const found = await this.find(subject);
      if (found) return found;
      const change = this.lock.then(() => this.addToOwnStream(subject));
      this.lock = change.catch(() => undefined);
      // Another client may change the own stream at the same time ("already in use", or its update
      // dropping ours): a failure is retried, and a success verified by the next lookup.
      await change.catch((err) => {
        if (attempt === ATTEMPTS) throw err;
      });
    }
    const found = await this.find(subject);
    if (found) return found;
    throw new Error(`nats-streaming-jetstream: no stream captures ${subject} after ${ATTEMPTS} attempts`);
  }

  /** @param {string} subject */
  async find(subject) {
    try {
      return await this.jsm.streams.find(subject);
    } catch (err) {
      if (err instanceof Error && err.message === 'no stream matches subject') return undefined;
      throw err;
    }
  }

  /** @param {string} subject */
  async addToOwnStream(subject) {
    const info = await this.jsm.streams.info(this.ownStream).catch((err) => {
      if (isNotFound(err)) return undefined;
      throw err;
    });
    if (!info) {
      // NATS Streaming's defaults: file store, limits only, nothing expires.
      await this.jsm.streams.add({
        name: this.ownStream,
        subjects: [subject],
        storage: StorageType.File,
        retention: RetentionPolicy.Limits,
      });
    } else if (!info.config.subjects.includes(subject)) {
      await this.jsm.streams.update(this.ownStream, { ...info.config, subjects: [...info.config.subjects, subject] });
    }
  }
}

module.exports = { StreamResolver };
