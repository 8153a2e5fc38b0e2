import path from 'node:path';
import { ConfigError, loadConfig } from '../../src/config';
import { orderIdFromWorkflowId, orderWorkflowId } from '../../src/workflows/shared';

describe('config', () => {
  test('when only JWT_KEY is set, then the defaults of DESIGN.md apply', () => {
    const config = loadConfig({ JWT_KEY: 'k' });
    expect(config).toMatchObject({
      port: 3000,
      nats: { url: 'nats://127.0.0.1:4222', stream: 'ticketing', streamReplicas: 1 },
      temporal: {
        connection: { address: '127.0.0.1:7233' },
        namespace: 'default',
        taskQueue: 'orders',
        metricsPort: 0,
        activationTimeoutMs: 60_000,
      },
      database: { kind: 'sqlite', file: path.resolve('.data', 'orders.sqlite') },
      orderExpirationSeconds: 900,
      holdPolicy: { maxExtensions: 0, extensionSeconds: 300 },
      expiringReminderSeconds: 120,
      maxActiveOrdersPerUser: 10,
      idempotencyLeaseSeconds: 30,
      outboxRetentionHours: 24,
      outboxClaimSeconds: 30,
      http: { requestTimeoutMs: 30_000, maxHeaderBytes: 16_384 },
      rateLimits: { perUserPerMinute: 300, perIpPerMinute: 1200 },
      trustProxy: false,
    });
    expect(config.temporal.connection.tls).toBeUndefined();
    expect(Object.isFrozen(config)).toBe(true);
  });

  test('when NATS_URL lists a cluster, then it is kept whole, and the stream takes NATS_STREAM_REPLICAS', () => {
    const config = loadConfig({ JWT_KEY: 'k', NATS_URL: 'nats://a:4222,nats://b:4223', NATS_STREAM_REPLICAS: '3' });
    expect(config.nats).toMatchObject({ url: 'nats://a:4222,nats://b:4223', streamReplicas: 3 });
  });

  test('when TEMPORAL_METRICS_PORT is set, then the worker exports the SDK metrics on it', () => {
    expect(loadConfig({ JWT_KEY: 'k', TEMPORAL_METRICS_PORT: '9464' }).temporal.metricsPort).toBe(9464);
  });

  test.each([
    [{}, 'JWT_KEY is required'],
    [{ JWT_KEY: 'k', PORT: 'eighty' }, 'PORT'],
    [{ JWT_KEY: 'k', TEMPORAL_METRICS_PORT: '70000' }, 'TEMPORAL_METRICS_PORT'],
    [{ JWT_KEY: 'k', TEMPORAL_METRICS_PORT: 'on' }, 'TEMPORAL_METRICS_PORT'],
    [{ JWT_KEY: 'k', ORDER_EXPIRATION_SECONDS: '0' }, 'ORDER_EXPIRATION_SECONDS'],
    [{ JWT_KEY: 'k', DATABASE_URL: 'mysql://x' }, 'DATABASE_URL must be a postgres:// URL'],
    [{ JWT_KEY: 'k', TEMPORAL_TLS_CLIENT_CERT_PATH: '/c.pem' }, 'set both or neither'],
    [{ JWT_KEY: 'k', NATS_STREAM: 'a.b' }, 'NATS_STREAM'],
    [{ JWT_KEY: 'k', NATS_URL: 'nats://a:4222, nats://b:4222' }, 'NATS_URL'],
    [{ JWT_KEY: 'k', NATS_URL: 'nats://a:4222,' }, 'NATS_URL'],
    [{ JWT_KEY: 'k', NATS_STREAM_REPLICAS: '0' }, 'NATS_STREAM_REPLICAS'],
    [{ JWT_KEY: 'k', NATS_STREAM_REPLICAS: '6' }, 'NATS_STREAM_REPLICAS'],
    [{ JWT_KEY: 'k', MAX_ACTIVE_ORDERS_PER_USER: '0' }, 'MAX_ACTIVE_ORDERS_PER_USER'],
    [{ JWT_KEY: 'k', IDEMPOTENCY_LEASE_SECONDS: '0' }, 'IDEMPOTENCY_LEASE_SECONDS'],
    [{ JWT_KEY: 'k', TEMPORAL_TLS_CERT_PATH: '/c.pem' }, 'use TEMPORAL_TLS_CLIENT_CERT_PATH'],
    [{ JWT_KEY: 'k', TEMPORAL_ADDRESS: '' }, 'TEMPORAL_ADDRESS is set but empty'],
    [{ JWT_KEY: 'k', LOG_FORMAT: 'text' }, 'LOG_FORMAT'],
    [{ JWT_KEY: 'k', OUTBOX_RETENTION_HOURS: '0' }, 'OUTBOX_RETENTION_HOURS'],
    [{ JWT_KEY: 'k', OUTBOX_CLAIM_SECONDS: '5' }, 'OUTBOX_CLAIM_SECONDS'],
    [{ JWT_KEY: 'k', MAX_HOLD_EXTENSIONS: '-1' }, 'MAX_HOLD_EXTENSIONS'],
    [{ JWT_KEY: 'k', ORDER_EXTENSION_SECONDS: '0' }, 'ORDER_EXTENSION_SECONDS'],
    [{ JWT_KEY: 'k', ORDER_EXTENSION_SECONDS: '86401' }, 'ORDER_EXTENSION_SECONDS'],
    [{ JWT_KEY: 'k', ORDER_EXPIRING_REMINDER_SECONDS: '-1' }, 'ORDER_EXPIRING_REMINDER_SECONDS'],
    [{ JWT_KEY: 'k', ORDER_EXPIRING_REMINDER_SECONDS: '2m' }, 'ORDER_EXPIRING_REMINDER_SECONDS'],
    [{ JWT_KEY: 'k', ORDER_EXPIRING_REMINDER_SECONDS: '86401' }, 'ORDER_EXPIRING_REMINDER_SECONDS'],
    [{ JWT_KEY: 'k', OUTBOX_RETENTION_HOURS: 'a day' }, 'OUTBOX_RETENTION_HOURS'],
    [{ JWT_KEY: 'k', REQUEST_TIMEOUT_MS: '0' }, 'REQUEST_TIMEOUT_MS'],
    [{ JWT_KEY: 'k', REQUEST_TIMEOUT_MS: '30s' }, 'REQUEST_TIMEOUT_MS'],
    [{ JWT_KEY: 'k', MAX_HEADER_BYTES: '100' }, 'MAX_HEADER_BYTES'],
    [{ JWT_KEY: 'k', MAX_HEADER_BYTES: '16kb' }, 'MAX_HEADER_BYTES'],
    [{ JWT_KEY: 'k', RATE_LIMIT_PER_MINUTE: '-1' }, 'RATE_LIMIT_PER_MINUTE'],
    [{ JWT_KEY: 'k', RATE_LIMIT_PER_MINUTE: 'many' }, 'RATE_LIMIT_PER_MINUTE'],
    [{ JWT_KEY: 'k', RATE_LIMIT_PER_MINUTE: '2.5' }, 'RATE_LIMIT_PER_MINUTE'],
    [{ JWT_KEY: 'k', RATE_LIMIT_PER_IP_PER_MINUTE: '-5' }, 'RATE_LIMIT_PER_IP_PER_MINUTE'],
    [{ JWT_KEY: 'k', TRUST_PROXY: 'not-an-address' }, 'TRUST_PROXY'],
    [{ JWT_KEY: 'k', TRUST_PROXY: '10.0.0.0/99' }, 'TRUST_PROXY'],
    [{ JWT_KEY: 'k', TEMPORAL_MAX_CACHED_WORKFLOWS: '0' }, 'the order steps are local activities'],
    [
      { JWT_KEY: 'k', TEMPORAL_WORKFLOW_ACTIVATION_TIMEOUT_SECONDS: '0' },
      'TEMPORAL_WORKFLOW_ACTIVATION_TIMEOUT_SECONDS',
    ],
    [
      { JWT_KEY: 'k', TEMPORAL_WORKFLOW_ACTIVATION_TIMEOUT_SECONDS: '5s' },
      'TEMPORAL_WORKFLOW_ACTIVATION_TIMEOUT_SECONDS',
    ],
  ])('when the environment is %j, then start-up fails naming the problem', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  test('when ORDER_EXPIRING_REMINDER_SECONDS is 0, then reminders are off; otherwise it is taken as given', () => {
    expect(loadConfig({ JWT_KEY: 'k', ORDER_EXPIRING_REMINDER_SECONDS: '0' }).expiringReminderSeconds).toBe(0);
    expect(loadConfig({ JWT_KEY: 'k', ORDER_EXPIRING_REMINDER_SECONDS: '300' }).expiringReminderSeconds).toBe(300);
  });

  test('when the rate limits are 0, then they are off; TRUST_PROXY takes what Express does', () => {
    expect(
      loadConfig({ JWT_KEY: 'k', RATE_LIMIT_PER_MINUTE: '0', RATE_LIMIT_PER_IP_PER_MINUTE: '0' }).rateLimits,
    ).toEqual({ perUserPerMinute: 0, perIpPerMinute: 0 });
    expect(loadConfig({ JWT_KEY: 'k', RATE_LIMIT_PER_MINUTE: '5' }).rateLimits.perUserPerMinute).toBe(5);
    expect(loadConfig({ JWT_KEY: 'k', TRUST_PROXY: 'true' }).trustProxy).toBe(true);
    expect(loadConfig({ JWT_KEY: 'k', TRUST_PROXY: 'false' }).trustProxy).toBe(false);
    expect(loadConfig({ JWT_KEY: 'k', TRUST_PROXY: '2' }).trustProxy).toBe(2);
    expect(loadConfig({ JWT_KEY: 'k', TRUST_PROXY: 'loopback, 10.0.0.0/8' }).trustProxy).toBe('loopback, 10.0.0.0/8');
  });

  test('when no OTEL_TRACES_EXPORTER is set (or none), then tracing is off', () => {
    expect(loadConfig({ JWT_KEY: 'k' }).tracing).toBeUndefined();
    expect(loadConfig({ JWT_KEY: 'k', OTEL_TRACES_EXPORTER: 'none', OTEL_SERVICE_NAME: 'x' }).tracing).toBeUndefined();
  });

  test('when OTLP is chosen, then the traces endpoint follows the OTEL_* rules', () => {
    expect(loadConfig({ JWT_KEY: 'k', OTEL_TRACES_EXPORTER: 'otlp' }).tracing).toEqual({
      exporter: 'otlp',
      endpoint: 'http://localhost:4318/v1/traces',
    });
    expect(
      loadConfig({ JWT_KEY: 'k', OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' })
        .tracing,
    ).toEqual({ exporter: 'otlp', endpoint: 'http://collector:4318/v1/traces' });
    expect(
      loadConfig({
        JWT_KEY: 'k',
        OTEL_TRACES_EXPORTER: 'otlp',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://traces.example/ingest',
        OTEL_SERVICE_NAME: 'orders-eu',
      }).tracing,
    ).toEqual({ exporter: 'otlp', endpoint: 'https://traces.example/ingest', serviceName: 'orders-eu' });
  });

  test('when Zipkin is chosen, then its endpoint is OTEL_EXPORTER_ZIPKIN_ENDPOINT', () => {
    expect(loadConfig({ JWT_KEY: 'k', OTEL_TRACES_EXPORTER: 'zipkin' }).tracing).toEqual({
      exporter: 'zipkin',
      endpoint: 'http://localhost:9411/api/v2/spans',
    });
    expect(
      loadConfig({
        JWT_KEY: 'k',
        OTEL_TRACES_EXPORTER: 'zipkin',
        OTEL_EXPORTER_ZIPKIN_ENDPOINT: 'http://127.0.0.1:39411/api/v2/spans',
      }).tracing,
    ).toEqual({ exporter: 'zipkin', endpoint: 'http://127.0.0.1:39411/api/v2/spans' });
  });

  test.each([
    [{ OTEL_TRACES_EXPORTER: 'jaeger' }, 'OTEL_TRACES_EXPORTER must be otlp, zipkin or none'],
    [{ OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' }, 'OTEL_EXPORTER_OTLP_ENDPOINT'],
    [{ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'grpc://x:4317' }, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'],
    [{ OTEL_EXPORTER_ZIPKIN_ENDPOINT: 'not a url' }, 'OTEL_EXPORTER_ZIPKIN_ENDPOINT'],
    [{ OTEL_SERVICE_NAME: ' ' }, 'OTEL_SERVICE_NAME'],
  ])('when a tracing variable is invalid (%j), then the error names it', (env, message) => {
    expect(() => loadConfig({ JWT_KEY: 'k', ...env })).toThrow(message);
  });

  test('when DATABASE_URL is a postgres URL, then PostgreSQL is selected', () => {
    expect(loadConfig({ JWT_KEY: 'k', DATABASE_URL: 'postgres://u:p@db:5432/orders' }).database).toEqual({
      kind: 'postgres',
      url: 'postgres://u:p@db:5432/orders',
      timeouts: { connectMs: 5000, statementMs: 10_000 },
    });
  });

  test('when the timeouts of the outbound calls are set, then the pool and the Temporal adapter take them', () => {
    const config = loadConfig({
      JWT_KEY: 'k',
      DATABASE_URL: 'postgres://db/orders',
      DATABASE_CONNECT_TIMEOUT_MS: '2000',
      DATABASE_STATEMENT_TIMEOUT_MS: '30000',
      TEMPORAL_CALL_TIMEOUT_MS: '3000',
    });
    expect(config.database).toMatchObject({ timeouts: { connectMs: 2000, statementMs: 30_000 } });
    expect(config.temporal.callTimeoutMs).toBe(3000);
    expect(loadConfig({ JWT_KEY: 'k' }).temporal.callTimeoutMs).toBe(5000);
  });

  test.each([
    ['TEMPORAL_CALL_TIMEOUT_MS', '99'],
    ['TEMPORAL_CALL_TIMEOUT_MS', '60001'],
    ['DATABASE_CONNECT_TIMEOUT_MS', '0'],
    ['DATABASE_CONNECT_TIMEOUT_MS', '60001'],
    ['DATABASE_STATEMENT_TIMEOUT_MS', '99'],
    ['DATABASE_STATEMENT_TIMEOUT_MS', '600001'],
    ['DATABASE_STATEMENT_TIMEOUT_MS', 'ten seconds'],
  ])('when %s is %s (out of bounds), then the error names it', (name, value) => {
    expect(() => loadConfig({ JWT_KEY: 'k', [name]: value })).toThrow(name);
  });

  test('when TLS is turned off beside an API key, then the description says what the connection does', () => {
    const { temporal } = loadConfig({ JWT_KEY: 'k', TEMPORAL_API_KEY: 'key', TEMPORAL_TLS: 'false' });
    expect(temporal.connection.tls).toBe(false);
    expect(temporal.description).toBe('127.0.0.1:7233 over plain gRPC (no TLS, API key)');
  });

  test('when a Temporal Cloud API key is set, then TLS is on', () => {
    expect(loadConfig({ JWT_KEY: 'k', TEMPORAL_API_KEY: 'key' }).temporal.connection).toMatchObject({
      apiKey: 'key',
      tls: true,
    });
  });
});

test('when an order id becomes a workflow id, then it reads back', () => {
  expect(orderWorkflowId('5ec43ca50880b600192cf43d')).toBe('order-5ec43ca50880b600192cf43d');
  expect(orderIdFromWorkflowId(orderWorkflowId('abc'))).toBe('abc');
  expect(() => orderIdFromWorkflowId('payment-1')).toThrow('Not an order workflow id');
});
