// node-nats-streaming 0.2.6's declarations (nats-io/stan.js index.d.ts), names and signatures kept
// so that code compiled against it (the course's services, @sgtickets/common) compiles against this.
// What differs is marked; conformance.ts checks the implementation against this file.
import { EventEmitter } from 'events';
import type { NatsConnection, TlsOptions } from 'nats';

export declare const version: string;

/** Returns the client at once; it emits 'connect' when ready, or 'error' then 'close'. */
export declare function connect(clusterID: string, clientID: string, opts?: StanOptions | string | number): Stan;

export interface StanOptions extends ClientOpts {
  url?: string;
  connectTimeout?: number;
  /** How long a publish waits for the stream's ack, in ms (30 000 by default, as node-nats-streaming). */
  ackTimeout?: number;
  /** Ignored: there is no NATS Streaming server to discover. */
  discoverPrefix?: string;
  /** Ignored: JetStream acks each publish; there is no client-side window. */
  maxPubAcksInflight?: number;
  /** 'utf8' (default): getData() returns a string; 'binary': a Buffer. */
  stanEncoding?: string;
  /** Ignored: nats.js pings the server itself (pingInterval, maxPingOut). */
  stanMaxPingOut?: number;
  /** Ignored, as stanMaxPingOut. */
  stanPingInterval?: number;
  /** Differs: a nats.js v2 connection (node-nats-streaming took a node-nats v1 one); close() leaves it open. */
  nc?: NatsConnection;
}

/** node-nats' options that nats.js v2 has too; others are ignored. */
export interface ClientOpts {
  url?: string;
  user?: string;
  pass?: string;
  verbose?: boolean;
  pedantic?: boolean;
  reconnect?: boolean;
  maxReconnectAttempts?: number;
  reconnectTimeWait?: number;
  servers?: Array<string>;
  noRandomize?: boolean;
  /** Differs: nats.js v2's TlsOptions (caFile, certFile, keyFile, ca, cert, key). */
  tls?: boolean | TlsOptions;
  name?: string;
  yieldTime?: number;
  waitOnFirstConnect?: boolean;
  token?: string;
  pingInterval?: number;
  maxPingOut?: number;
}

export declare class Message {
  getSubject(): string;
  /** Differs: the JetStream stream's sequence, the channel's own only if the stream captures its subject alone. */
  getSequence(): number;
  getRawData(): Buffer;
  /** A string unless stanEncoding is 'binary'. */
  // eslint-disable-next-line @typescript-eslint/no-wrapper-object-types -- node-nats-streaming's own type
  getData(): String | Buffer;
  /** Nanoseconds since the epoch when the stream stored the message. */
  getTimestampRaw(): number;
  getTimestamp(): Date;
  isRedelivered(): boolean;
  /** Differs: always 0, JetStream keeps no CRC32. */
  getCrc32(): number;
  ack(): void;
}

export declare class Subscription extends EventEmitter {
  isClosed(): boolean;
  /** Removes the subscription and its durable position. Differs: a queue group's consumer is kept. */
  unsubscribe(): void;
  /** Stops this member; a durable keeps its position. */
  close(): void;
}

export interface AckHandlerCallback {
  (err: Error | undefined, guid: string): void;
}

export declare class Stan extends EventEmitter {
  close(): void;
  /** @returns the guid, sent as JetStream's Nats-Msg-Id (de-duplication). */
  publish(subject: string, data?: Uint8Array | string | Buffer, callback?: AckHandlerCallback): string;
  subscribe(subject: string, opts?: SubscriptionOptions): Subscription;
  subscribe(subject: string, qGroup: string, opts?: SubscriptionOptions): Subscription;
  subscriptionOptions(): SubscriptionOptions;
}

export declare enum StartPosition {
  NEW_ONLY = 0,
  LAST_RECEIVED,
  TIME_DELTA_START,
  SEQUENCE_START,
  FIRST,
}

export interface SubscriptionOptions {
  durableName?: string;
  maxInFlight?: number;
  ackWait?: number;
  startPosition: StartPosition;
  startSequence?: number;
  startTime?: number;
  manualAcks?: boolean;
  /** Differs: JetStream's max_ack_pending, which a queue group's members share. */
  setMaxInFlight(n: number): SubscriptionOptions;
  setAckWait(millis: number): SubscriptionOptions;
  setStartAt(startPosition: StartPosition): SubscriptionOptions;
  setStartAtSequence(sequence: number): SubscriptionOptions;
  setStartTime(date: Date): SubscriptionOptions;
  setStartAtTimeDelta(millis: number): SubscriptionOptions;
  setStartWithLastReceived(): SubscriptionOptions;
  setDeliverAllAvailable(): SubscriptionOptions;
  setManualAckMode(tf: boolean): SubscriptionOptions;
  setDurableName(durableName: string): SubscriptionOptions;
}
