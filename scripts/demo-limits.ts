/**
 * `npm run demo:limits`: the API's guards against real-world clients, tried against the system
 * that `npm run dev` runs, as a new user would try them:
 * 1. a POST retried with its Idempotency-Key returns the same order;
 * 2. one hold more than MAX_ACTIVE_ORDERS_PER_USER is refused (429, Retry-After);
 * 3. an extension moves the deadline in the API, in the workflow's details (Web UI) and on its timer
 *    (extensions are opt-in: start the service with MAX_HOLD_EXTENSIONS=1 or more);
 * 4. a burst of requests gets a 429 with Retry-After and RateLimit headers.
 * It exits 1 at the first step that does not behave so (test/e2e/limits-demo.e2e.test.ts runs it).
 */
import { Client, Connection } from '@temporalio/client';
import { ObjectId } from 'bson';
import jwt from 'jsonwebtoken';
import { connect } from 'nats';
import { sessionCookie } from '../src/api/auth';
import { orderWorkflowId } from '../src/workflows/shared';
import { DEV_JWT_KEY } from './lib/dev-defaults';
import { ticketThenOrder } from './lib/ticketing';

const API = process.env.API_URL ?? `http://127.0.0.1:${process.env.PORT ?? 3000}`;
const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const TEMPORAL = process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233';
const UI = (process.env.TEMPORAL_UI_URL ?? 'http://127.0.0.1:8233').replace(/\/$/, '');
const NAMESPACE = process.env.TEMPORAL_NAMESPACE ?? 'default';
const MAX_TRIES = 5000;

const bold = (s: string) => `\x1b[1m${s}\x1b[0m`;
const step = (s: string) => console.log(`\n${bold(s)}`);
const ok = (s: string) => console.log(`   \x1b[32m✓\x1b[0m ${s}`);
function expect(condition: boolean, failure: string): asserts condition {
  if (!condition) {
    console.error(`   \x1b[31m✗ ${failure}\x1b[0m`);
    process.exit(1);
  }
}

interface Order {
  id: string;
  status: string;
  expiresAt: string;
  version: number;
}

async function main(): Promise<void> {
  const cookie = sessionCookie(
    jwt.sign({ id: new ObjectId().toHexString() }, process.env.JWT_KEY ?? DEV_JWT_KEY, { algorithm: 'HS256' }),
  );
  const api = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${API}${path}`, {
      method,
      headers: { cookie, 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as unknown) : undefined };
  };
  const nc = await connect({ servers: NATS_URL, timeout: 3000 });
  const publish = async (subject: string, data: unknown) => {
    nc.publish(subject, JSON.stringify(data));
    await nc.flush();
  };
  type FullReply = Awaited<ReturnType<typeof api>>;
  const newTicketOrder = async (headers: Record<string, string> = {}) => {
    const { ticket, reply } = await ticketThenOrder(
      publish,
      (ticketId) => api('POST', '/api/orders', { ticketId }, headers),
      { title: 'Demo' },
    );
    return { ticket, reply: reply as FullReply }; // the reply of `api`, headers included
  };

  step('1. A POST retried with its Idempotency-Key returns the same order');
  const key = crypto.randomUUID();
  const { ticket, reply: first } = await newTicketOrder({ 'idempotency-key': key });
  expect(first.status === 201, `POST answered ${first.status}: ${JSON.stringify(first.body)}`);
  const order = first.body as Order;
  const again = await api('POST', '/api/orders', { ticketId: ticket.id }, { 'idempotency-key': key });
  expect(
    again.status === 201 && (again.body as Order).id === order.id,
    `the retry answered ${again.status}: ${JSON.stringify(again.body)}`,
  );
  ok(
    `both answers are order ${order.id}; the retry says Idempotent-Replayed: ${again.headers.get('idempotent-replayed')}`,
  );

  step('2. One hold more than the limit is refused');
  let refused: FullReply | undefined;
  let holds = 1; // the order of step 1
  while (!refused && holds < MAX_TRIES) {
    holds++;
    const { reply } = await newTicketOrder();
    if (reply.status === 429) refused = reply;
    else expect(reply.status === 201, `POST answered ${reply.status}: ${JSON.stringify(reply.body)}`);
  }
  expect(refused !== undefined, `no hold limit within ${MAX_TRIES} orders`);
  ok(`hold ${holds} refused: 429 ${JSON.stringify(refused.body)}; Retry-After: ${refused.headers.get('retry-after')}`);

  step('3. An extension moves the deadline: in the API, in the Web UI, on the timer');
  const extended = await api('POST', `/api/orders/${order.id}/extend`);
  expect(
    extended.status === 200,
    `extend answered ${extended.status}: ${JSON.stringify(extended.body)}` +
      (extended.status === 409 ? ' (extensions are off by default: start it with MAX_HOLD_EXTENSIONS=1)' : ''),
  );
  const moved = extended.body as Order;
  expect(moved.expiresAt > order.expiresAt, `expiresAt did not move: ${moved.expiresAt}`);
  ok(`API: expiresAt ${order.expiresAt} → ${moved.expiresAt}, version ${order.version} → ${moved.version}`);
  const connection = await Connection.connect({ address: TEMPORAL });
  try {
    const handle = new Client({ connection, namespace: NAMESPACE }).workflow.getHandle(orderWorkflowId(order.id));
    const metadata = await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
    expect(
      metadata.currentDetails?.includes(moved.expiresAt) === true,
      `the workflow's details say: ${metadata.currentDetails}`,
    );
    ok(`Web UI details: "${metadata.currentDetails}"  ${UI}/namespaces/${NAMESPACE}/workflows/${handle.workflowId}`);
    const timerFiresAt = (await handle.fetchHistory()).events
      ?.filter((e) => e.timerStartedEventAttributes)
      .map((e) => {
        const started = Number(e.eventTime!.seconds) * 1000 + Math.floor((e.eventTime!.nanos ?? 0) / 1e6);
        const timeout = e.timerStartedEventAttributes!.startToFireTimeout!;
        return new Date(started + Number(timeout.seconds) * 1000 + Math.floor((timeout.nanos ?? 0) / 1e6));
      })
      .at(-1);
    // The workflow's latest timer is for the new deadline: the deadline itself, or the
    // order:expiring reminder that comes ORDER_EXPIRING_REMINDER_SECONDS before it.
    const deadline = Date.parse(moved.expiresAt);
    const reminderMs = Number(process.env.ORDER_EXPIRING_REMINDER_SECONDS ?? 120) * 1000;
    const near = (at: Date | undefined, ms: number) => at !== undefined && Math.abs(at.getTime() - ms) < 2000;
    expect(
      near(timerFiresAt, deadline) || near(timerFiresAt, deadline - reminderMs),
      `the workflow's timer fires at ${timerFiresAt?.toISOString()}, for neither ${moved.expiresAt} nor its reminder`,
    );
    const what = near(timerFiresAt, deadline)
      ? 'the new deadline'
      : `the reminder, ${reminderMs / 1000} s before the new deadline`;
    ok(`timer: fires at ${timerFiresAt!.toISOString()} (${what})`);
  } finally {
    await connection.close();
  }

  step('4. A burst of requests gets a 429');
  let limited: FullReply | undefined;
  for (let i = 0; !limited && i < MAX_TRIES; i++) {
    const reply = await api('GET', '/api/orders');
    if (reply.status === 429) limited = reply;
  }
  expect(limited !== undefined, `no rate limit within ${MAX_TRIES} requests (RATE_LIMIT_PER_MINUTE=0?)`);
  expect(limited.headers.get('retry-after') !== null, 'the 429 has no Retry-After');
  ok(
    `429 ${JSON.stringify(limited.body)}; Retry-After: ${limited.headers.get('retry-after')}; ` +
      `RateLimit: ${limited.headers.get('ratelimit')}; RateLimit-Policy: ${limited.headers.get('ratelimit-policy')}`,
  );
  await nc.drain();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
