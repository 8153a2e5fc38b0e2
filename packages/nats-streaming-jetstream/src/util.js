'use strict';
const { createHash } = require('node:crypto');

/** The messages node-nats-streaming uses, so that code matching on them keeps working. */
const CONN_CLOSED = 'stan: Connection closed';
const BAD_SUBJECT = 'stan: subject must be supplied';
const BAD_SUBSCRIPTION = 'stan: invalid subscription';

/**
 * Emits 'error' only when someone listens. EventEmitter throws an 'error' nobody listens to, and
 * the course's code listens on no subscription (@sgtickets/common's Listener) and on its
 * connection only until it is up: an error there must be reported, not crash the service.
 * @param {import('node:events').EventEmitter} emitter
 * @param {unknown} err
 */
function emitError(emitter, err) {
  if (emitter.listenerCount('error') > 0) emitter.emit('error', err);
  else globalThis.console.error('nats-streaming-jetstream: unhandled error event:', err);
}

/**
 * A JetStream name from free text. Stream and consumer names allow `[-A-Za-z0-9_]` only (`.`, `*`,
 * `>`, `/` and whitespace are refused; `:`, common in the course's subjects, breaks file names), so
 * other characters become `_`; a short hash of the exact parts keeps `a:b` and `a.b` apart.
 * @param {string[]} parts
 */
function jetStreamName(parts) {
  const readable = [...new Set(parts.filter((p) => p !== ''))].map(sanitize).join('_').slice(0, 150);
  const hash = createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 8);
  return `${readable}_${hash}`;
}

/** @param {string} text */
function sanitize(text) {
  return text.replace(/[^-\w]/g, '_');
}

/**
 * JetStream's API errors: 10059 stream not found, 10014 consumer not found.
 * @param {unknown} err
 */
function isNotFound(err) {
  const e = /** @type {{ code?: string; api_error?: { err_code?: number } }} */ (err);
  return e?.api_error?.err_code === 10059 || e?.api_error?.err_code === 10014 || e?.code === '404';
}

/**
 * No stream captured the subject (or none answered): a publish gets no responders.
 * @param {unknown} err
 */
function isNoResponders(err) {
  return /** @type {{ code?: string }} */ (err)?.code === '503';
}

/** @param {unknown} err */
function toError(err) {
  return err instanceof Error ? err : new Error(String(err));
}

module.exports = {
  CONN_CLOSED,
  BAD_SUBJECT,
  BAD_SUBSCRIPTION,
  emitError,
  jetStreamName,
  sanitize,
  isNotFound,
  isNoResponders,
  toError,
};
