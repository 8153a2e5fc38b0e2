/**
 * A minimal Redis client shaped like ioredis, for BullMQ in the peer measurement only (peer.ts).
 *
 * BullMQ 6 loads its Redis driver, ioredis, as an optional peer dependency, and the project does not
 * install it (BullMQ is a dev dependency for this measurement alone). BullMQ wraps whatever looks
 * like ioredis (`createIORedisClient`), so this speaks RESP2 over one socket per connection:
 * commands in order, pipelines and MULTI/EXEC, Lua scripts by EVALSHA (EVAL on NOSCRIPT), and
 * ioredis's connection states and events. Enough for queues, delayed jobs and a worker; nothing more.
 */
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { parseReply, ReplyError, type Reply } from './resp-parser';

type Arg = string | number | Buffer;
type Pending = { resolve: (r: Reply) => void; reject: (e: Error) => void };
interface Script {
  sha: string;
  lua: string;
  numberOfKeys: number;
}

/** The commands BullMQ sends outside its Lua scripts; each becomes a method, like ioredis's. */
const COMMANDS = (
  'get set del exists expire pexpire ttl pttl incr incrby keys type hget hset hmget hgetall hdel hexists hlen hscan ' +
  'lpush rpush lpop rpop lrange llen ltrim lpos lrem sadd srem smembers scard sscan zadd zrem zrange zrevrange zcard ' +
  'zscore zrangebyscore bzpopmin xadd xread xtrim xlen xrevrange info client scan ping script eval evalsha flushall'
).split(' ');

const closedError = () => new Error('Connection is closed.');
const flatten = (args: unknown[]): Arg[] =>
  args.flatMap((a) => (Array.isArray(a) ? flatten(a) : [a === undefined || a === null ? '' : (a as Arg)]));
const toObject = (r: Reply): Record<string, string> => {
  const out: Record<string, string> = {};
  const xs = (r ?? []) as string[];
  for (let i = 0; i + 1 < xs.length; i += 2) out[xs[i]!] = xs[i + 1]!;
  return out;
};

function encode(args: Arg[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) {
    const b = Buffer.isBuffer(a) ? a : Buffer.from(String(a));
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

export class RespRedis extends EventEmitter {
  status = 'connecting';
  readonly isCluster = false;
  readonly options: { host: string; port: number; maxRetriesPerRequest: null };
  private readonly socket: net.Socket;
  private readonly pending: Pending[] = [];
  private buffer: Buffer = Buffer.alloc(0);
  private readonly scripts = new Map<string, Script>();
  private readonly ready: Promise<void>;
  [command: string]: unknown;

  constructor(opts: { host?: string; port?: number }) {
    super();
    this.options = { host: opts.host ?? '127.0.0.1', port: opts.port ?? 6379, maxRetriesPerRequest: null };
    for (const name of COMMANDS) this[name] = (...args: unknown[]) => this.call(name, args);
    this.socket = net.connect(this.options.port, this.options.host);
    this.socket.setNoDelay(true);
    this.ready = new Promise((resolve, reject) => {
      this.socket.once('connect', () => {
        this.status = 'ready';
        this.emit('connect');
        this.emit('ready');
        resolve();
      });
      this.socket.once('error', reject);
    });
    this.ready.catch(() => {}); // reported by the 'error' event
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('error', (err) => this.emit('error', err));
    this.socket.on('close', () => this.ended());
  }

  connect(): Promise<void> {
    return this.ready;
  }

  /** One command; `hgetall` answers an object, as ioredis's does. */
  async call(name: string, args: unknown[]): Promise<Reply | Record<string, string>> {
    const reply = await this.send([name, ...flatten(args)]);
    return name === 'hgetall' ? toObject(reply) : reply;
  }

  send(args: Arg[]): Promise<Reply> {
    if (this.status === 'end') return Promise.reject(closedError());
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject });
      this.socket.write(encode(args));
    });
  }

  defineCommand(name: string, { numberOfKeys, lua }: { numberOfKeys: number; lua: string }): void {
    const script = { sha: createHash('sha1').update(lua).digest('hex'), lua, numberOfKeys };
    this.scripts.set(name, script);
    this[name] = (...args: unknown[]) => this.evalScript(script, flatten(args));
  }

  private async evalScript({ sha, lua, numberOfKeys }: Script, args: Arg[]): Promise<Reply> {
    try {
      return await this.send(['evalsha', sha, numberOfKeys, ...args]);
    } catch (err) {
      if (!(err instanceof ReplyError) || !err.message.startsWith('NOSCRIPT')) throw err;
      return this.send(['eval', lua, numberOfKeys, ...args]);
    }
  }

  /** Commands sent together; exec() answers [error, result] for each, as ioredis's pipeline does. */
  pipeline(): Batch {
    return new Batch(this, this.scripts, false);
  }

  multi(): Batch {
    return new Batch(this, this.scripts, true);
  }

  duplicate(): RespRedis {
    const copy = new RespRedis(this.options);
    for (const [name, s] of this.scripts) copy.defineCommand(name, { numberOfKeys: s.numberOfKeys, lua: s.lua });
    return copy;
  }

  async quit(): Promise<string> {
    if (this.status !== 'end') await this.send(['quit']).catch(() => undefined);
    this.disconnect();
    return 'OK';
  }

  disconnect(): void {
    this.socket.destroy();
    this.ended();
  }

  private ended(): void {
    if (this.status === 'end') return;
    this.status = 'end';
    for (const p of this.pending.splice(0)) p.reject(closedError());
    this.emit('close');
    this.emit('end');
  }

  private onData(chunk: Buffer): void {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    let offset = 0;
    for (;;) {
      const parsed = parseReply(this.buffer, offset);
      if (!parsed) break;
      offset = parsed.next;
      const p = this.pending.shift();
      if (parsed.value instanceof ReplyError) p?.reject(parsed.value);
      else p?.resolve(parsed.value);
    }
    this.buffer = this.buffer.subarray(offset);
  }
}

/** A pipeline or a MULTI/EXEC transaction: every command (and script) method queues, exec() sends them. */
class Batch {
  private readonly queued: Array<{ args: Arg[]; hgetall: boolean }> = [];
  [command: string]: unknown;

  constructor(
    private readonly client: RespRedis,
    scripts: Map<string, Script>,
    private readonly transaction: boolean,
  ) {
    const queue = (args: Arg[], hgetall = false) => {
      this.queued.push({ args, hgetall });
      return this;
    };
    for (const name of COMMANDS)
      this[name] = (...args: unknown[]) => queue([name, ...flatten(args)], name === 'hgetall');
    for (const [name, s] of scripts)
      this[name] = (...args: unknown[]) => queue(['evalsha', s.sha, s.numberOfKeys, ...flatten(args)]);
  }

  async exec(): Promise<Array<[Error | null, unknown]>> {
    const settle = (p: Promise<Reply>) =>
      p.then(
        (v): [Error | null, Reply] => [null, v],
        (e: Error): [Error | null, Reply] => [e, null],
      );
    const shape = (i: number, v: Reply) => (this.queued[i]!.hgetall ? toObject(v) : v);
    if (!this.transaction) {
      const replies = await Promise.all(this.queued.map((q) => settle(this.client.send(q.args))));
      return replies.map(([e, v], i) => [e, e ? null : shape(i, v)]);
    }
    void settle(this.client.send(['multi']));
    const acks = this.queued.map((q) => settle(this.client.send(q.args)));
    const results = (await this.client.send(['exec'])) as Reply[] | null;
    await Promise.all(acks);
    return (results ?? []).map((v, i) => (v instanceof Error ? [v, null] : [null, shape(i, v)]));
  }
}
