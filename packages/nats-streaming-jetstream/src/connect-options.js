'use strict';

/** @typedef {import('../index').StanOptions} StanOptions */

/**
 * node-nats-streaming's options: a URL (`http://nats-srv:4222` in the course: the scheme is
 * ignored), a port, or an object.
 * @param {StanOptions | string | number | undefined} opts
 * @returns {StanOptions}
 */
function parseOptions(opts) {
  if (typeof opts === 'string') return { url: opts };
  if (typeof opts === 'number') return { url: `nats://localhost:${opts}` };
  return { ...opts };
}

/**
 * The subset of node-nats' options that nats.js v2 has under another name or type.
 * @param {StanOptions} o
 * @param {string} clientID
 * @returns {import('nats').ConnectionOptions}
 */
function natsOptions(o, clientID) {
  const all = {
    servers: o.servers ?? (o.url ?? 'nats://localhost:4222').split(','),
    name: o.name ?? clientID,
    user: o.user,
    pass: o.pass,
    token: o.token,
    timeout: o.connectTimeout,
    reconnect: o.reconnect,
    maxReconnectAttempts: o.maxReconnectAttempts,
    reconnectTimeWait: o.reconnectTimeWait,
    waitOnFirstConnect: o.waitOnFirstConnect,
    noRandomize: o.noRandomize,
    pingInterval: o.pingInterval,
    maxPingOut: o.maxPingOut,
    tls: o.tls === true ? {} : o.tls || undefined,
  };
  // nats.js lets an explicit undefined override its default.
  return Object.fromEntries(Object.entries(all).filter(([, v]) => v !== undefined));
}

module.exports = { parseOptions, natsOptions };
