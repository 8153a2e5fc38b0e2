'use strict';
// Plain CommonJS, no build step: `require('node-nats-streaming')` from compiled code such as
// @sgtickets/common resolves here on a fresh `npm ci`, --omit=dev and --ignore-scripts included.
module.exports = require('./src/index.js');
