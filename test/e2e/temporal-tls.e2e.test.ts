/**
 * Reaching a Temporal cluster over mutual TLS, or Temporal Cloud with an API key, by configuration
 * alone (docs/configuration.md, docs/deploy.md). The cluster here is the run's dev server behind
 * a front that answers for another host name with a certificate of a private CA (made with openssl
 * for the test): a TLS front that requires a client certificate, as a cluster's ingress does, or a
 * gRPC front that requires `authorization: Bearer <API key>` on every call, as Temporal Cloud does.
 */
import pino from 'pino';
import { startApi } from '../../src/api/server';
import { loadConfig } from '../../src/config';
import { sessionCookieForUser, TEST_JWT_KEY } from '../support/auth';
import { eventually } from '../../scripts/lib/eventually';
import { newId } from '../support/orders';
import { startSystem } from '../support/system';
import {
  makePki,
  startApiKeyFrontend,
  startTlsFrontend,
  type ApiKeyFrontend,
  type Pki,
  type TlsFrontend,
} from '../support/tls';

const SERVER_NAME = 'temporal.orders.test';
let pki: Pki;
let frontend: TlsFrontend;

beforeAll(async () => {
  const [host, port] = process.env.TEST_TEMPORAL_ADDRESS!.split(':');
  pki = makePki(SERVER_NAME);
  frontend = await startTlsFrontend(pki, { host: host!, port: Number(port) });
});

afterAll(async () => {
  await frontend?.close();
  pki?.cleanup();
});

const tlsEnv = () => ({
  TEMPORAL_ADDRESS: `127.0.0.1:${frontend.port}`,
  TEMPORAL_TLS_SERVER_CA_CERT_PATH: pki.ca,
  TEMPORAL_TLS_SERVER_NAME: SERVER_NAME,
  TEMPORAL_TLS_CLIENT_CERT_PATH: pki.clientCert,
  TEMPORAL_TLS_CLIENT_KEY_PATH: pki.clientKey,
});

/**
 * The whole service with this Temporal environment: an order is created, and the worker (also
 * behind the front) runs its workflow until the expiry cancels it.
 */
async function orderExpiresWith(env: Record<string, string>): Promise<void> {
  const system = await startSystem({ database: 'sqlite', expirationSeconds: 2, env });
  try {
    const cookie = sessionCookieForUser(newId());
    const ticketId = newId();
    await system.db.store.tickets.upsert({ id: ticketId, title: 'remote', price: 1, version: 0 });
    const created = await system.request('POST', '/api/orders', { headers: { cookie }, body: { ticketId } });
    expect(created.status).toBe(201);
    const { id } = created.body as { id: string };
    const order = await eventually(async () => {
      const res = await system.request('GET', `/api/orders/${id}`, { headers: { cookie } });
      return (res.body as { status: string }).status === 'cancelled' ? res.body : undefined;
    }, 'the order to expire');
    expect(order).toMatchObject({ id, status: 'cancelled', version: 1 });
  } finally {
    await system.stop();
  }
}

test('when the service is configured with a CA, a client certificate and a server name, then orders are created and expire through mutual TLS', async () => {
  await orderExpiresWith(tlsEnv());
  expect(frontend.authorized).toBeGreaterThan(0);
});

test('when the client certificate is missing, then the process refuses to start and says why', async () => {
  const { TEMPORAL_TLS_CLIENT_CERT_PATH: _cert, TEMPORAL_TLS_CLIENT_KEY_PATH: _key, ...withoutClientCert } = tlsEnv();
  const config = loadConfig({ JWT_KEY: TEST_JWT_KEY, PORT: '0', DATA_DIR: pki.dir, ...withoutClientCert });
  await expect(startApi(config, pino({ level: 'silent' }))).rejects.toThrow(
    `Could not connect to Temporal at 127.0.0.1:${frontend.port} over TLS, CA ${pki.ca}, no client certificate, server name ${SERVER_NAME}`,
  );
});

describe('with an API key', () => {
  const API_KEY = 'orders-test-api-key';
  let keyFront: ApiKeyFrontend;

  beforeAll(async () => {
    const [host, port] = process.env.TEST_TEMPORAL_ADDRESS!.split(':');
    keyFront = await startApiKeyFrontend(pki, API_KEY, { host: host!, port: Number(port) });
  });
  afterAll(() => keyFront?.close());

  const keyEnv = (apiKey: string) => ({
    TEMPORAL_ADDRESS: `127.0.0.1:${keyFront.port}`,
    TEMPORAL_API_KEY: apiKey,
    TEMPORAL_TLS_SERVER_CA_CERT_PATH: pki.ca,
    TEMPORAL_TLS_SERVER_NAME: SERVER_NAME,
  });

  test('when the service is configured with the API key, then every call carries it, and orders are created and expire', async () => {
    await orderExpiresWith(keyEnv(API_KEY));
    expect(keyFront).toMatchObject({ refused: 0 });
    expect(keyFront.accepted).toBeGreaterThan(0);
  });

  test('when the API key is wrong, then the process refuses to start and says why', async () => {
    const config = loadConfig({ JWT_KEY: TEST_JWT_KEY, PORT: '0', DATA_DIR: pki.dir, ...keyEnv('not-the-key') });
    await expect(startApi(config, pino({ level: 'silent' }))).rejects.toThrow(
      `Could not connect to Temporal at 127.0.0.1:${keyFront.port} over TLS, CA ${pki.ca}, no client certificate, server name ${SERVER_NAME}, API key`,
    );
    expect(keyFront.refused).toBeGreaterThan(0);
  });
});
