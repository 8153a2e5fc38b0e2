/**
 * `npm run demo [-- --pay]`: walks through the life of one order against the system that
 * `npm run dev` runs. It publishes a ticket (as the tickets service would), creates an order,
 * prints the order's page in the Temporal Web UI, counts down to its expiry and reports the
 * events as they arrive. With --pay, it pays a few seconds in (as the payments service would).
 * Tip: `ORDER_EXPIRATION_SECONDS=30 npm run dev` for a short window.
 */
import { randomBytes } from 'node:crypto';
import { ObjectId } from 'bson';
import jwt from 'jsonwebtoken';
import { connect, type NatsConnection } from 'nats';
import { sessionCookie } from '../src/api/auth';
import { Subjects } from '../src/orders/catalogue';
import { orderWorkflowId } from '../src/workflows/shared';
import { DEV_JWT_KEY } from './lib/dev-defaults';
import { ticketThenOrder } from './lib/ticketing';

const API = process.env.API_URL ?? `http://127.0.0.1:${process.env.PORT ?? 3000}`;
const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const UI = (process.env.TEMPORAL_UI_URL ?? 'http://127.0.0.1:8233').replace(/\/$/, '');
const NAMESPACE = process.env.TEMPORAL_NAMESPACE ?? 'default';
const ZIPKIN = `http://127.0.0.1:${process.env.ZIPKIN_PORT ?? 9411}`;
const pay = process.argv.includes('--pay');
const c = {
  bold: '\x1b[1m',
  dim: '\x1b[2m',
  green: '\x1b[32m',
  yellow: '\x1b[33m',
  red: '\x1b[31m',
  cyan: '\x1b[36m',
  reset: '\x1b[0m',
};
const step = (msg: string) => console.log(`\n${c.bold}${msg}${c.reset}`);
const fail = (msg: string): never => {
  console.error(`${c.red}${msg}${c.reset}`);
  process.exit(1);
};

interface Order {
  id: string;
  status: string;
  expiresAt: string;
  version: number;
  ticket: { title: string; price: number };
}

async function main(): Promise<void> {
  const userId = new ObjectId().toHexString();
  const token = jwt.sign({ id: userId, email: 'demo@example.com' }, process.env.JWT_KEY ?? DEV_JWT_KEY, {
    algorithm: 'HS256',
  });
  const cookie = sessionCookie(token);
  // The demo's own trace: with `npm run dev -- --tracing`, the order's whole life joins it (W3C traceparent).
  const traceId = randomBytes(16).toString('hex');
  const traceparent = `00-${traceId}-${randomBytes(8).toString('hex')}-01`;
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${API}${path}`, {
      method,
      // only the POST: the order's life is the trace, not the demo's polling
      headers: { cookie, 'content-type': 'application/json', ...(method === 'POST' ? { traceparent } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    }).catch(() => fail(`Lost the API at ${API}. Is \`npm run dev\` still running?`));
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as unknown) : undefined };
  };

  await fetch(`${API}/healthz`).catch(() =>
    fail(`The API does not answer at ${API}. Start the system first: npm run dev`),
  );
  const nc: NatsConnection = await connect({ servers: NATS_URL, timeout: 3000 }).catch(() =>
    fail(`NATS does not answer at ${NATS_URL}. Start the system first: npm run dev`),
  );

  const startedAt = Date.now();
  const at = () => `${c.dim}+${((Date.now() - startedAt) / 1000).toFixed(1)}s${c.reset}`;
  const watched = [
    Subjects.OrderCreated,
    Subjects.ExpirationComplete,
    Subjects.OrderCancelled,
    Subjects.PaymentRejected,
  ];
  const watching: { orderId?: string } = {}; // set once the order exists
  const seen: string[] = [];
  for (const subject of watched) {
    const sub = nc.subscribe(subject);
    void (async () => {
      for await (const m of sub) {
        const data = m.string();
        if (!watching.orderId || !data.includes(watching.orderId)) continue;
        seen.push(subject);
        process.stdout.write('\r\x1b[K');
        console.log(`${at()} ${c.green}event${c.reset} ${c.bold}${subject}${c.reset} ${data}`);
      }
    })();
  }

  step('1. The tickets service publishes ticket:created');
  const publish = async (subject: string, ticket: unknown) => {
    nc.publish(subject, JSON.stringify(ticket));
    await nc.flush();
    console.log(`${at()} ${JSON.stringify(ticket)}`);
    step('2. A user creates an order: POST /api/orders');
  };
  const { reply: res } = await ticketThenOrder(
    publish,
    (ticketId) => api('POST', '/api/orders', { ticketId }),
    { title: 'Demo concert', price: 42 },
    5_000,
  ).catch(() => fail('The service did not learn about the ticket within 5 s. Is the worker running?'));
  if (res.status !== 201) fail(`POST /api/orders answered ${res.status}: ${JSON.stringify(res.body)}`);
  const order = res.body as Order;
  watching.orderId = order.id;
  console.log(`${at()} 201 ${JSON.stringify(order)}`);

  const tracing = await fetch(`${ZIPKIN}/health`).then(
    (r) => r.ok,
    () => false,
  );
  if (tracing) console.log(`   its trace (Zipkin): ${c.cyan}${ZIPKIN}/zipkin/traces/${traceId}${c.reset}`);

  step('3. Its workflow in the Temporal Web UI');
  console.log(`   ${c.cyan}${UI}/namespaces/${NAMESPACE}/workflows/${orderWorkflowId(order.id)}${c.reset}`);
  console.log(
    `   all orders still waiting: ${c.cyan}${UI}/namespaces/${NAMESPACE}/workflows?query=${encodeURIComponent('OrderStatus="created"')}${c.reset}`,
  );
  console.log(
    `   this user's orders:       ${c.cyan}${UI}/namespaces/${NAMESPACE}/workflows?query=${encodeURIComponent(`UserId="${userId}"`)}${c.reset}`,
  );

  const deadline = Date.parse(order.expiresAt);
  if (pay) {
    step('4. The payments service publishes payment:created in 3 s');
    setTimeout(() => {
      const payment = { id: new ObjectId().toHexString(), orderId: order.id, stripeId: `ch_demo_${Date.now()}` };
      nc.publish(Subjects.PaymentCreated, JSON.stringify(payment));
      process.stdout.write('\r\x1b[K');
      console.log(`${at()} published payment:created ${JSON.stringify(payment)}`);
    }, 3000);
  } else {
    step(`4. Nobody pays: the order expires at ${order.expiresAt}`);
    if (deadline - Date.now() > 120_000)
      console.log(`${c.yellow}   That is a while. For a short demo: ORDER_EXPIRATION_SECONDS=30 npm run dev${c.reset}`);
  }

  let final: Order | undefined;
  while (!final) {
    await new Promise((r) => setTimeout(r, 1000));
    const res = await api('GET', `/api/orders/${order.id}`);
    const current = res.body as Order;
    if (current.status === 'complete' || current.status === 'cancelled') {
      final = current;
      break;
    }
    const left = Math.max(0, Math.round((deadline - Date.now()) / 1000));
    process.stdout.write(
      `\r\x1b[K   ${c.yellow}${current.status}${c.reset}, expires in ${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')}`,
    );
  }
  await new Promise((r) => setTimeout(r, 500)); // let the last events print
  process.stdout.write('\r\x1b[K');

  step(`5. The order ended: ${final.status} (version ${final.version})`);
  console.log(`   events seen: ${seen.join(', ') || 'none'}`);
  console.log(
    `   see how it ended in the UI: ${c.cyan}${UI}/namespaces/${NAMESPACE}/workflows/${orderWorkflowId(order.id)}${c.reset}`,
  );
  await nc.drain();
}

main().catch((err: unknown) => fail(String((err as Error).stack ?? err)));
