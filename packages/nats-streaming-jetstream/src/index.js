'use strict';
const { Stan } = require('./stan');
const { Subscription } = require('./subscription');
const { Message } = require('./message');
const { StartPosition, SubscriptionOptions } = require('./options');

/** The node-nats-streaming release whose API this package implements. */
const version = '0.2.6';

/**
 * Returns the client at once; it emits 'connect' when it can publish and subscribe (both may be
 * called before: they wait), or 'error' then 'close' when it cannot connect.
 * @param {string} clusterID
 * @param {string} clientID
 * @param {import('../index').StanOptions | string | number} [opts]
 */
function connect(clusterID, clientID, opts) {
  return new Stan(clusterID, clientID, opts);
}

module.exports = { connect, version, Stan, Subscription, Message, SubscriptionOptions, StartPosition };
