/**
 * Rate limits (per IP before authentication, per user after it) counted in the real database, on
 * SQLite and on PostgreSQL: apps built in-process with small limits, two of them over one database
 * as two replicas would be. Temporal is a fake here: only the limits are under test.
 */
import http from 'node:http';
import type { Express } from 'express';
import pino, { type Logger } from 'pino';
import { openRateLimits, type RateLimits } from '../../src/api/rate-limits';
import { loadConfig, type TrustProxy } from '../../src/config';
import { healthRoutes } from '../../src/health';
import type { OrderWorkflows } from '../../src/orders/ports';
import { inTransaction } from '../../src/store/transactions';
import { listen } from '../support/api';
import { sessionCookieForUser } from '../support/auth';
import { capturingLogger, type LogLine } from '../support/logs';
import { databases, type TestDatabase } from '../support/database';
import { newId } from '../support/orders';
import { appOver, orderServiceOver } from '../support/service';

const noWorkflows: OrderWorkflows = {
  start: () => Promise.resolve(),
  discard: () => Promise.resolve(),
  notifyCancelled: () => Promise.resolve(),
  signalPayment: () => Promise.resolve(true),
  extendHold: () => Promise.resolve(),
};

interface Answer {
  status: number;
  headers: Headers;
  body: unknown;
}

/**
 * Each call speaks from an address of its own (X-Forwarded-For, believed from the proxies of
 * KNOWN_PROXIES), never one that an earlier request counted against: drawn at random from 250, two
 * tests sometimes shared one, and a per-IP limit of 10 was reached early.
 */
let addresses = 0;
const newAddress = () => {
  addresses += 1;
  return `198.18.${Math.floor(addresses / 250)}.${(addresses % 250) + 1}, 10.0.0.${addresses % 250}`;
};
/** A client address of its own: any 127/8 address reaches a server on 127.0.0.1. */
const newLoopbackAddress = () => `127.${Math.floor(Math.random() * 250) + 1}.${Math.floor(Math.random() * 250)}.2`;
/** What an operator sets for a known proxy in front: the tests' requests come through loopback and a 10/8 hop. */
const KNOWN_PROXIES: TrustProxy = 'loopback, uniquelocal';

describe.each(databases)('rate limits on %s', (_engine, openStore) => {
  let db: TestDatabase;
  const opened: { limits: RateLimits; close(): Promise<void> }[] = [];

  beforeAll(async () => {
    db = await openStore();
  });

  afterAll(async () => {
    for (const o of opened) {
      await o.close();
      await o.limits.close();
    }
    await db?.cleanup();
  });

  /** An app over the test database with its own limits: one replica. */
  async function replica(
    limits: { perUserPerMinute: number; perIpPerMinute: number },
    options: { logger?: Logger; trustProxy?: TrustProxy } = {},
  ) {
    const logger = options.logger ?? pino({ level: 'silent' });
    const rateLimits = openRateLimits({ database: db.config, ...limits, logger });
    const orders = orderServiceOver(db.store, noWorkflows, logger);
    const publicRoutes = healthRoutes({ database: () => Promise.resolve() });
    const app: Express = appOver(db.store, orders, logger, {
      limits: rateLimits,
      publicRoutes,
      trustProxy: options.trustProxy ?? KNOWN_PROXIES,
    });
    const server = await listen(app);
    opened.push({ limits: rateLimits, close: server.close });
    const send = async (
      method: string,
      path: string,
      headers: Record<string, string> = {},
      body?: unknown,
    ): Promise<Answer> => {
      const res = await fetch(`${server.baseUrl}${path}`, {
        method,
        headers: { 'content-type': 'application/json', ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, headers: res.headers, body: text && text.startsWith('{') ? JSON.parse(text) : text };
    };
    return { send, limits: rateLimits, baseUrl: server.baseUrl };
  }

  const asUser = (userId: string, address: string) => ({
    cookie: sessionCookieForUser(userId),
    'x-forwarded-for': address,
  });

  test('the 6th request of a user in a minute is a 429 with Retry-After and RateLimit headers; another user is unaffected', async () => {
    const { send } = await replica({ perUserPerMinute: 5, perIpPerMinute: 1000 });
    const alice = newId();
    const address = newAddress();
    for (let i = 1; i <= 5; i += 1) {
      const ok = await send('GET', '/api/orders', asUser(alice, address));
      expect(ok.status).toBe(200);
      expect(ok.headers.get('ratelimit-policy')).toBe('"per-ip";q=1000;w=60, "per-user";q=5;w=60');
      expect(ok.headers.get('ratelimit')).toMatch(
        new RegExp(`^"per-ip";r=${1000 - i};t=\\d+, "per-user";r=${5 - i};t=\\d+$`),
      );
    }
    const refused = await send('GET', '/api/orders', asUser(alice, address));
    expect(refused.status).toBe(429);
    expect(refused.body).toEqual({
      errors: [
        {
          message: expect.stringMatching(
            /^Too many requests: more than 5 a minute from this user; try again in \d+ seconds$/,
          ),
        },
      ],
    });
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(refused.headers.get('ratelimit-policy')).toContain('"per-user";q=5;w=60');
    expect(refused.headers.get('ratelimit')).toMatch(/"per-user";r=0;t=\d+$/);
    // POST too: the limit is on the user, whatever the route.
    expect((await send('POST', '/api/orders', asUser(alice, address), { ticketId: newId() })).status).toBe(429);

    const bob = await send('GET', '/api/orders', asUser(newId(), address));
    expect(bob.status).toBe(200);
    expect(bob.headers.get('ratelimit')).toMatch(/"per-user";r=4;t=\d+$/);
  });

  test('two replicas on the same database share the count', async () => {
    const one = await replica({ perUserPerMinute: 5, perIpPerMinute: 0 });
    const two = await replica({ perUserPerMinute: 5, perIpPerMinute: 0 });
    const carol = newId();
    const address = newAddress();
    for (const replicaOf of [one, two, one, two, one]) {
      expect((await replicaOf.send('GET', '/api/orders', asUser(carol, address))).status).toBe(200);
    }
    const refused = await two.send('GET', '/api/orders', asUser(carol, address));
    expect(refused.status).toBe(429);
    // per-IP is off on these: only the per-user policy is announced.
    expect(refused.headers.get('ratelimit-policy')).toBe('"per-user";q=5;w=60');
    expect((await one.send('GET', '/api/orders', asUser(carol, address))).status).toBe(429);
  });

  test('requests with bad tokens from one address reach a 429, not endless 401s; other addresses are unaffected', async () => {
    const { send } = await replica({ perUserPerMinute: 5, perIpPerMinute: 10 });
    const address = newAddress();
    const bad = { authorization: 'Bearer not-a-token', 'x-forwarded-for': address };
    for (let i = 0; i < 10; i += 1) expect((await send('GET', '/api/orders', bad)).status).toBe(401);
    const refused = await send('GET', '/api/orders', bad);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(refused.headers.get('ratelimit')).toMatch(/^"per-ip";r=0;t=\d+$/);
    expect(refused.body).toEqual({ errors: [{ message: expect.stringMatching(/from this address/) }] });
    // a valid user from that address is refused too (the address is limited before authentication)
    expect((await send('GET', '/api/orders', asUser(newId(), address))).status).toBe(429);
    expect((await send('GET', '/api/orders', { ...bad, 'x-forwarded-for': newAddress() })).status).toBe(401);
  });

  test('X-Forwarded-For from a client that is not a trusted proxy is not believed', async () => {
    // The test's requests come from 127.0.0.1: with no trusted proxy, every one is from 127.0.0.1.
    const { send } = await replica({ perUserPerMinute: 0, perIpPerMinute: 3 }, { trustProxy: false });
    for (let i = 0; i < 3; i += 1) {
      expect((await send('GET', '/api/orders', { 'x-forwarded-for': newAddress() })).status).toBe(401);
    }
    expect((await send('GET', '/api/orders', { 'x-forwarded-for': newAddress() })).status).toBe(429);
  });

  test('when TRUST_PROXY is left at its default and a client forges X-Forwarded-For, then it is still limited by its real address', async () => {
    const shipped = loadConfig({ JWT_KEY: 'k' }).trustProxy;
    const { baseUrl } = await replica({ perUserPerMinute: 0, perIpPerMinute: 3 }, { trustProxy: shipped });
    // Real addresses of its own on loopback (127/8), so no other test's count is shared.
    const real = newLoopbackAddress();
    for (let remaining = 2; remaining >= 0; remaining -= 1) {
      const answer = await getFrom(baseUrl, real, { 'x-forwarded-for': newAddress() });
      expect(answer.status).toBe(401);
      expect(answer.headers.ratelimit).toMatch(new RegExp(`^"per-ip";r=${remaining};t=\\d+$`));
    }
    const forged = await getFrom(baseUrl, real, { 'x-forwarded-for': newAddress() });
    expect(forged.status).toBe(429);
    expect(forged.body).toEqual({ errors: [{ message: expect.stringMatching(/from this address/) }] });
    // Another real address is counted on its own.
    expect((await getFrom(baseUrl, newLoopbackAddress(), { 'x-forwarded-for': newAddress() })).status).toBe(401);
  });

  test('health routes and metrics are never limited', async () => {
    const { send } = await replica({ perUserPerMinute: 1, perIpPerMinute: 1 }, { trustProxy: false });
    for (let i = 0; i < 5; i += 1) {
      for (const path of ['/healthz', '/readyz', '/metrics']) {
        const answer = await send('GET', path);
        expect(answer.status).toBe(200);
        expect(answer.headers.get('ratelimit')).toBeNull();
      }
    }
  });

  test('a store that fails lets requests through (counted in memory, with a warning), never a 500', async () => {
    const { logger, lines } = capturingLogger('warn');
    const { send, limits } = await replica({ perUserPerMinute: 3, perIpPerMinute: 100 }, { logger });
    await limits.close(); // the limits' connection to the database is gone
    const dave = newId();
    const address = newAddress();
    for (let i = 0; i < 3; i += 1) expect((await send('GET', '/api/orders', asUser(dave, address))).status).toBe(200);
    expect(lines.filter((l) => l.msg.startsWith('rate-limit store failed'))).not.toHaveLength(0);
    expect(lines.some((l) => l.msg === 'unexpected error')).toBe(false);
    // still limited, in this process's memory
    expect((await send('GET', '/api/orders', asUser(dave, address))).status).toBe(429);
  });

  if (_engine === 'SQLite') {
    test("a count waits for the service's own BEGIN IMMEDIATE write, without blocking it, and is not lost", async () => {
      const { logger, lines } = capturingLogger('debug');
      const { send } = await replica({ perUserPerMinute: 5, perIpPerMinute: 0 }, { logger });
      const erin = newId();
      // The request is not awaited inside: its route reads through the store's one connection, held here.
      const { pending } = await inTransaction(db.store.db, 'sqlite', async (trx) => {
        await trx.insertInto('tickets').values({ id: newId(), title: 'held', price: 1, version: 0 }).execute();
        const pending = send('GET', '/api/orders', asUser(erin, newAddress()));
        await until(lines, (l) => l.msg === 'rate-limit store busy: waiting');
        // the event loop is free: this transaction goes on and commits while the count waits
        await trx.insertInto('tickets').values({ id: newId(), title: 'held too', price: 1, version: 0 }).execute();
        return { pending };
      });
      const answer = await pending;
      expect(answer.status).toBe(200);
      expect(answer.headers.get('ratelimit')).toMatch(/^"per-user";r=4;t=\d+$/);
      expect(lines.filter((l) => l.level >= 40)).toEqual([]); // no fail-open: counted in the database
      const row = db.store.db
        .selectFrom('rate_limits' as never)
        .select(['points' as never])
        .where('key' as never, '=', `per-user:${erin}` as never);
      expect(await row.executeTakeFirst()).toEqual({ points: 1 });
    });

    test('the service writes concurrently with counted requests without SQLITE_BUSY', async () => {
      const { logger, lines } = capturingLogger('warn');
      const { send } = await replica({ perUserPerMinute: 50, perIpPerMinute: 1000 }, { logger });
      const tickets = Array.from({ length: 20 }, () => ({ id: newId(), title: 't', price: 1, version: 0 }));
      for (const t of tickets) await db.store.tickets.upsert(t);
      const answers = await Promise.all(
        tickets.map((t) => send('POST', '/api/orders', asUser(newId(), newAddress()), { ticketId: t.id })),
      );
      expect(answers.map((a) => a.status)).toEqual(tickets.map(() => 201));
      expect(lines).toEqual([]);
    });
  }
});

/** GET /api/orders from a chosen local (loopback) address: the client's real address, as the server sees it. */
function getFrom(
  baseUrl: string,
  localAddress: string,
  headers: Record<string, string>,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${baseUrl}/api/orders`, { localAddress, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(text) }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

/** Resolves once a log line matches (checked on every turn of the event loop; the test's own timeout bounds it). */
async function until(lines: LogLine[], match: (line: LogLine) => boolean): Promise<void> {
  while (!lines.some(match)) await new Promise((resolve) => setImmediate(resolve));
}
