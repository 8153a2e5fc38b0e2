/**
 * The prebuilt workflow bundles (scripts/bundle-workflows.ts, what the image runs with WORKFLOW_BUNDLE):
 * with tracing on, the worker runs the one with the OpenTelemetry workflow interceptors and the
 * workflow's spans join the order's trace; with tracing off, it runs its twin without them.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { eventually } from '../../scripts/lib/eventually';
import { ticketThenOrder } from '../../scripts/lib/ticketing';
import { untracedBundlePath } from '../../src/tracing';
import { orderWorkflowId } from '../../src/workflows/shared';
import { postOrder } from '../support/api';
import { sessionCookieForUser } from '../support/auth';
import { CoreNatsPeer } from '../support/nats';
import { newId } from '../support/orders';
import { startSystem, type TestSystem } from '../support/system';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orders-bundle-'));
const bundle = path.join(dir, 'workflow-bundle.js');
const cookie = sessionCookieForUser(newId());

beforeAll(async () => {
  const root = path.resolve(__dirname, '../..');
  await promisify(execFile)(path.join(root, 'node_modules/.bin/tsx'), ['scripts/bundle-workflows.ts', bundle], {
    cwd: root,
  });
}, 120_000);

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Places an order on a system running the bundle and waits for its expiry's order:cancelled. */
async function orderThatExpires(system: TestSystem): Promise<string> {
  const peer = await CoreNatsPeer.connect(system.config.nats.url);
  try {
    const events = peer.record(['order:cancelled']);
    const { reply } = await ticketThenOrder(peer.publish, postOrder(system.request, cookie));
    expect(reply.status).toBe(201);
    const orderId = (reply.body as { id: string }).id;
    await events.waitFor('order:cancelled', (d) => d.id === orderId);
    events.stop();
    return orderId;
  } finally {
    await peer.close();
  }
}

test('when tracing is on, then the workflow spans from the prebuilt bundle are in the order trace', async () => {
  const exporter = new InMemorySpanExporter();
  const system = await startSystem({
    database: 'sqlite',
    expirationSeconds: 2,
    env: { WORKFLOW_BUNDLE: bundle },
    spanExporter: exporter,
  });
  try {
    const orderId = await orderThatExpires(system);
    const spans = () => exporter.getFinishedSpans();
    const start = await eventually(
      async () =>
        spans().find(
          (s) =>
            s.name === 'StartWorkflow:orderWorkflow' && s.attributes.temporalWorkflowId === orderWorkflowId(orderId),
        ),
      'the workflow start span',
    );
    const run = await eventually(
      async () =>
        spans().find(
          (s) => s.name === 'RunWorkflow:orderWorkflow' && s.spanContext().traceId === start.spanContext().traceId,
        ),
      'the workflow span, exported from the bundle',
    );
    expect(run.parentSpanId).toBe(start.spanContext().spanId);
  } finally {
    await system.stop();
  }
});

test('when the bundles are built, then only the traced one holds the tracing interceptors', () => {
  const interceptors = 'OpenTelemetryInboundInterceptor';
  expect(fs.readFileSync(bundle, 'utf8')).toContain(interceptors);
  expect(fs.readFileSync(untracedBundlePath(bundle), 'utf8')).not.toContain(interceptors);
});

test('when tracing is off, then the worker runs orders on the untraced bundle', async () => {
  const system = await startSystem({ database: 'sqlite', expirationSeconds: 2, env: { WORKFLOW_BUNDLE: bundle } });
  try {
    const orderId = await orderThatExpires(system);
    const res = await system.request('GET', `/api/orders/${orderId}`, { headers: { cookie } });
    expect(res.body).toMatchObject({ status: 'cancelled' });
  } finally {
    await system.stop();
  }
});

test('when the untraced twin of the bundle is missing, then the worker refuses to start and names it', async () => {
  const lone = path.join(dir, 'lone', 'workflow-bundle.js');
  fs.mkdirSync(path.dirname(lone));
  fs.copyFileSync(bundle, lone);
  await expect(
    startSystem({ database: 'sqlite', expirationSeconds: 2, env: { WORKFLOW_BUNDLE: lone } }),
  ).rejects.toThrow(`WORKFLOW_BUNDLE: ${untracedBundlePath(lone)} does not exist`);
});
