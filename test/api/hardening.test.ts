/**
 * Hostile and malformed requests, on a real HTTP server (the API's own, createHttpServer) on a free
 * port: security headers, size caps, JWT rules, body-parser's and Node's parser errors. Each one is
 * a clear 4xx in the contract's error shape, in the service's own words, and never a 5xx. The
 * OrderService is a fake whose calls are recorded, to prove what never reaches it.
 */
import { generateKeyPairSync } from 'node:crypto';
import type { Server } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import jwt from 'jsonwebtoken';
import pino from 'pino';
import type { IdempotentOrders } from '../../src/api/idempotency';
import { buildApp } from '../../src/api/app';
import { createHttpServer, type HttpLimits } from '../../src/api/http-server';
import { loadConfig } from '../../src/config';
import type { Order } from '../../src/orders/order';
import type { OrderService } from '../../src/orders/order-service';
import { sessionCookieForUser, TEST_JWT_KEY, tokenFor } from '../support/auth';

const order: Order = {
  id: '5ec43ca50880b600192cf43d',
  userId: 'alice',
  status: 'created',
  expiresAt: '2020-05-19T20:23:05.480Z',
  version: 0,
  ticket: { id: '5ec43c86298c01001811bbb7', title: 'concert', price: 10, version: 0 },
};

function fakeOrders() {
  return {
    placeOrder: jest.fn(async () => order),
    listOrders: jest.fn(async () => [order]),
    getOrder: jest.fn(async () => order),
    cancelOrder: jest.fn(async () => undefined),
  };
}

interface Running {
  server: Server;
  port: number;
  baseUrl: string;
  orders: ReturnType<typeof fakeOrders>;
  /** Resolves once every request the server took has its response closed (answered or cut off). */
  idle(): Promise<void>;
}

/** Every status any test saw: none may be a 5xx. */
const statuses: number[] = [];

async function start(limits: HttpLimits): Promise<Running> {
  const orders = fakeOrders();
  const logger = pino({ level: 'silent' });
  const idempotency = { place: jest.fn() } as unknown as IdempotentOrders; // never reached: no test sends a key
  const app = buildApp({ orders: orders as unknown as OrderService, idempotency, jwtKey: TEST_JWT_KEY, logger });
  const server = createHttpServer(app, limits, logger);
  let open = 0;
  const waiters: (() => void)[] = [];
  server.on('request', (_req, res) => {
    open += 1;
    res.on('close', () => {
      open -= 1;
      if (open === 0) for (const w of waiters.splice(0)) w();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const idle = () => (open === 0 ? Promise.resolve() : new Promise<void>((resolve) => waiters.push(resolve)));
  return { server, port, baseUrl: `http://127.0.0.1:${port}`, orders, idle };
}

const stop = (r: Running | undefined) =>
  r
    ? new Promise<void>((resolve) => r.server.close(() => resolve())).then(() => r.server.closeAllConnections())
    : undefined;

interface RawReply {
  status: number;
  headers: Record<string, string>;
  body: unknown;
  text: string;
}

/** Sends bytes on a raw socket and reads everything until the server closes it. */
function raw(port: number, chunks: (string | Buffer)[], { end = true } = {}): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const received: Buffer[] = [];
    socket.on('data', (d) => received.push(d));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(received).toString('utf8');
      const split = text.indexOf('\r\n\r\n');
      if (split < 0) return reject(new Error(`no HTTP response: ${JSON.stringify(text)}`));
      const [statusLine, ...lines] = text.slice(0, split).split('\r\n');
      const headers = Object.fromEntries(
        lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
      );
      const bodyText = text.slice(split + 4);
      const status = Number(statusLine!.split(' ')[1]);
      statuses.push(status);
      resolve({ status, headers, text: bodyText, body: bodyText ? (JSON.parse(bodyText) as unknown) : undefined });
    });
    socket.on('connect', () => {
      for (const c of chunks) socket.write(c);
      if (end) socket.end();
    });
  });
}

interface FetchReply {
  status: number;
  headers: Headers;
  text: string;
  body: unknown;
}

async function request(
  baseUrl: string,
  method: string,
  path: string,
  init: { headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<FetchReply> {
  const res = await fetch(`${baseUrl}${path}`, { method, headers: init.headers, body: init.body });
  const text = await res.text();
  statuses.push(res.status);
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = text;
  }
  return { status: res.status, headers: res.headers, text, body };
}

const errors = (message: string) => ({ errors: [{ message }] });
const notAuthorized = errors('Not authorized');
const alice = { cookie: sessionCookieForUser('alice') };

let api: Running;

beforeAll(async () => {
  api = await start(loadConfig({ JWT_KEY: TEST_JWT_KEY }).http);
});

beforeEach(() => jest.clearAllMocks());

afterAll(async () => {
  await stop(api);
  expect(statuses.length).toBeGreaterThan(0);
  expect(statuses.filter((s) => s >= 500)).toEqual([]);
});

describe('security headers', () => {
  test.each([
    ['an order list', 'GET', '/api/orders', alice, 200],
    ['an error', 'GET', '/api/orders', {}, 401],
    ['an unknown route', 'GET', '/nowhere', {}, 404],
    ['the OpenAPI document', 'GET', '/openapi.json', {}, 200],
  ])('when the answer is %s, then helmet headers are on it', async (_what, method, path, headers, status) => {
    const res = await request(api.baseUrl, method, path, { headers });
    expect(res.status).toBe(status);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    expect(res.headers.get('strict-transport-security')).toMatch(/max-age=\d+/);
    expect(res.headers.get('content-security-policy')).toBe("default-src 'none';frame-ancestors 'none'");
    expect(res.headers.get('x-powered-by')).toBeNull();
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  });

  test('when the OpenAPI document is fetched, then it is still the whole JSON document', async () => {
    const res = await request(api.baseUrl, 'GET', '/openapi.json');
    expect(res.body).toMatchObject({ openapi: expect.any(String), paths: expect.any(Object) });
  });
});

describe('sizes of headers, cookies and path parameters', () => {
  test('when the headers are larger than MAX_HEADER_BYTES, then Node refuses them with 431 in the error shape', async () => {
    const res = await raw(api.port, [
      `GET /api/orders HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\nConnection: close\r\n\r\n`,
    ]);
    expect(res.status).toBe(431);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['connection']).toBe('close');
    expect(res.body).toEqual(errors('Request headers are too large'));
  });

  test('when the cookie alone is larger than MAX_HEADER_BYTES, then 431 in the error shape', async () => {
    const res = await raw(api.port, [
      `GET /api/orders HTTP/1.1\r\nHost: x\r\nCookie: ${alice.cookie}; junk=${'b'.repeat(20_000)}\r\nConnection: close\r\n\r\n`,
    ]);
    expect(res.status).toBe(431);
    expect(res.body).toEqual(errors('Request headers are too large'));
  });

  test('when the cookies are within the header limit but larger than any browser keeps, then 431 in the error shape', async () => {
    const res = await request(api.baseUrl, 'GET', '/api/orders', {
      headers: { cookie: `${alice.cookie}; junk=${'c'.repeat(10_000)}` },
    });
    expect(res.status).toBe(431);
    expect(res.body).toEqual(errors('Request cookies are too large'));
    expect(api.orders.listOrders).not.toHaveBeenCalled();
  });

  test.each(['GET', 'DELETE'])(
    'when %s names a 10 kB order id, then 404 "Order not found" without reaching the service',
    async (method) => {
      const res = await request(api.baseUrl, method, `/api/orders/${'a'.repeat(10_000)}`, { headers: alice });
      expect(res.status).toBe(404);
      expect(res.body).toEqual(errors('Order not found'));
      expect(api.orders.getOrder).not.toHaveBeenCalled();
      expect(api.orders.cancelOrder).not.toHaveBeenCalled();
    },
  );

  test('when the order id is 64 characters, then it still reaches the service', async () => {
    const id = 'f'.repeat(64);
    const res = await request(api.baseUrl, 'GET', `/api/orders/${id}`, { headers: alice });
    expect(res.status).toBe(200);
    expect(api.orders.getOrder).toHaveBeenCalledWith('alice', id);
  });

  test('when the order id is badly percent-encoded, then 400 in our words', async () => {
    const res = await request(api.baseUrl, 'GET', '/api/orders/%E0%A4%A', { headers: alice });
    expect(res.status).toBe(400);
    expect(res.body).toEqual(errors('Request URL is not correctly encoded'));
    expect(res.text).not.toMatch(/Failed to decode/);
  });
});

describe('JWTs: HS256 with the shared key only', () => {
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const now = () => Math.floor(Date.now() / 1000);

  const refused: [string, () => string][] = [
    ['alg none', () => `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ id: 'alice' })}.`],
    ['HS512 with the right key', () => jwt.sign({ id: 'alice' }, TEST_JWT_KEY, { algorithm: 'HS512' })],
    ['RS256-signed', () => jwt.sign({ id: 'alice' }, privateKey, { algorithm: 'RS256' })],
    ['HS256 with another key', () => tokenFor('alice', 'not-the-key')],
    ['expired', () => jwt.sign({ id: 'alice', exp: now() - 60 }, TEST_JWT_KEY, { algorithm: 'HS256' })],
    ['not yet valid', () => jwt.sign({ id: 'alice', nbf: now() + 3600 }, TEST_JWT_KEY, { algorithm: 'HS256' })],
    ['id numeric', () => jwt.sign({ id: 42 }, TEST_JWT_KEY, { algorithm: 'HS256' })],
    ['id missing', () => jwt.sign({ email: 'a@test.example' }, TEST_JWT_KEY, { algorithm: 'HS256' })],
    ['id empty', () => jwt.sign({ id: '' }, TEST_JWT_KEY, { algorithm: 'HS256' })],
    ['not a JWT', () => 'garbage'],
  ];
  const carriers: [string, (token: string) => Record<string, string>][] = [
    ['Bearer', (token) => ({ authorization: `Bearer ${token}` })],
    [
      'session cookie',
      (token) => ({ cookie: `session=${Buffer.from(JSON.stringify({ jwt: token })).toString('base64')}` }),
    ],
  ];

  describe.each(carriers)('in %s', (_carrier, carry) => {
    test.each(refused)('when the token is %s, then 401 "Not authorized"', async (_what, token) => {
      const res = await request(api.baseUrl, 'GET', '/api/orders', { headers: carry(token()) });
      expect(res.status).toBe(401);
      expect(res.body).toEqual(notAuthorized);
      expect(api.orders.listOrders).not.toHaveBeenCalled();
    });

    test('when the token is HS256 with an exp still ahead, then it is accepted', async () => {
      const token = jwt.sign({ id: 'alice', exp: now() + 3600 }, TEST_JWT_KEY, { algorithm: 'HS256' });
      const res = await request(api.baseUrl, 'GET', '/api/orders', { headers: carry(token) });
      expect(res.status).toBe(200);
      expect(api.orders.listOrders).toHaveBeenCalledWith('alice');
    });
  });
});

describe('bodies that body-parser refuses, in our words', () => {
  const post = (headers: Record<string, string>, body: string | Buffer) =>
    request(api.baseUrl, 'POST', '/api/orders', { headers: { ...alice, ...headers }, body });

  test("when a gzip body is not gzip, then 400 with our message, not zlib's", async () => {
    const res = await post(
      { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      '{"ticketId":"5ec43c86298c01001811bbb7"}',
    );
    expect(res.status).toBe(400);
    expect(res.body).toEqual(errors('Request body could not be decompressed as its Content-Encoding says'));
    expect(res.text).not.toMatch(/incorrect header check/i);
  });

  test("when the charset is unknown, then 415 with our message, not body-parser's", async () => {
    const res = await post({ 'content-type': 'application/json; charset=BOGUS' }, '{"ticketId":"t"}');
    expect(res.status).toBe(415);
    expect(res.body).toEqual(errors('Unsupported charset: send JSON as UTF-8'));
    expect(res.text).not.toMatch(/BOGUS|unsupported charset "/i);
  });

  test('when the Content-Encoding is unknown, then 415 with our message', async () => {
    const res = await post({ 'content-type': 'application/json', 'content-encoding': 'x-bogus' }, '{}');
    expect(res.status).toBe(415);
    expect(res.body).toEqual(errors('Unsupported Content-Encoding: send gzip, deflate, br or an uncompressed body'));
    expect(res.text).not.toMatch(/x-bogus/);
  });

  test('when the body is not JSON, then 400 (unchanged)', async () => {
    const res = await post({ 'content-type': 'application/json' }, '{"ticketId":');
    expect(res.status).toBe(400);
    expect(res.body).toEqual(errors('Request body is not valid JSON'));
  });

  test('when the body is over 16 kB, then 413 (unchanged)', async () => {
    const res = await post({ 'content-type': 'application/json' }, JSON.stringify({ ticketId: 'x'.repeat(17_000) }));
    expect(res.status).toBe(413);
    expect(res.body).toEqual(errors('Request body is too large'));
  });

  test('when the body is shorter than its Content-Length and the client ends, then 400 and no handler runs', async () => {
    const res = await raw(api.port, [
      `POST /api/orders HTTP/1.1\r\nHost: x\r\nCookie: ${alice.cookie}\r\nContent-Type: application/json\r\n` +
        'Content-Length: 100\r\n\r\n{"ticketId',
    ]);
    expect(res.status).toBe(400);
    expect(res.body).toEqual(errors('Request ended before its body was received'));
    await api.idle();
    expect(api.orders.placeOrder).not.toHaveBeenCalled();
  });
});

describe("requests Node's HTTP parser refuses", () => {
  test('when the request line is garbage, then 400 in the error shape', async () => {
    const res = await raw(api.port, ['NOT HTTP AT ALL\r\n\r\n']);
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['connection']).toBe('close');
    expect(res.body).toEqual(errors('Malformed HTTP request'));
  });

  test('when a header has no name, then 400 in the error shape', async () => {
    const res = await raw(api.port, ['GET /api/orders HTTP/1.1\r\nHost: x\r\n: nameless\r\n\r\n']);
    expect(res.status).toBe(400);
    expect(res.body).toEqual(errors('Malformed HTTP request'));
  });
});

describe('request timeout', () => {
  let slow: Running | undefined;

  afterAll(() => stop(slow));

  test('when a body promises 100 bytes, sends 10 and stalls, then 408 in the error shape and the handler never ran', async () => {
    slow = await start(loadConfig({ JWT_KEY: TEST_JWT_KEY, REQUEST_TIMEOUT_MS: '300' }).http);
    const res = await raw(
      slow.port,
      [
        `POST /api/orders HTTP/1.1\r\nHost: x\r\nCookie: ${alice.cookie}\r\nContent-Type: application/json\r\n` +
          'Content-Length: 100\r\n\r\n{"ticketId',
      ],
      { end: false },
    );
    expect(res.status).toBe(408);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['connection']).toBe('close');
    expect(res.body).toEqual(errors('Request was not received in time'));
    await slow.idle();
    expect(slow.orders.placeOrder).not.toHaveBeenCalled();
  });

  test('when the headers never end, then 408 in the error shape', async () => {
    slow ??= await start(loadConfig({ JWT_KEY: TEST_JWT_KEY, REQUEST_TIMEOUT_MS: '300' }).http);
    const res = await raw(slow.port, ['GET /api/orders HTTP/1.1\r\nHost: x\r\n'], { end: false });
    expect(res.status).toBe(408);
    expect(res.body).toEqual(errors('Request was not received in time'));
  });
});
