/**
 * Runs the workload's plan on the clock: each action starts at its time (without waiting for the
 * ones before it), until the run's workload time is over; then the orders' fates in flight finish.
 */
import jwt from 'jsonwebtoken';
import type { NatsConnection } from 'nats';
import { log, sleepUntil } from '../log';
import type { Random } from '../random';
import { ApiClient, signIn, type User } from './api-client';
import type { Ledger } from './ledger';
import { OrderLives } from './orders';
import { OtherServices } from './other-services';
import type { Action, Fate, WorkloadPlan } from './plan';

export interface Workload {
  api: ApiClient;
  ledger: Ledger;
  users: User[];
  lives: OrderLives;
  services: OtherServices;
  /** Starts a task the run waits for at the end (an order's life, a burst). */
  track(task: Promise<unknown>): void;
  /** Waits for every task started so far (at most `ms`). */
  drain(ms: number): Promise<void>;
}

export function workload(
  plan: WorkloadPlan,
  apiUrls: string[],
  jwtKey: string,
  nc: NatsConnection,
  ledger: Ledger,
): Workload {
  const api = new ApiClient(apiUrls, ledger);
  const services = new OtherServices(nc, ledger);
  const inFlight = new Set<Promise<unknown>>();
  const track = (task: Promise<unknown>) => {
    const settled = task.catch((err: unknown) => log(`workload task failed: ${String(err)}`));
    inFlight.add(settled);
    void settled.finally(() => inFlight.delete(settled));
  };
  return {
    api,
    ledger,
    users: plan.users.map((id) => signIn(id, jwtKey)),
    lives: new OrderLives(api, services, ledger),
    services,
    track,
    drain: async (ms) => {
      const deadline = new Promise((resolve) => setTimeout(resolve, ms).unref());
      await Promise.race([Promise.all([...inFlight]), deadline]);
    },
  };
}

export async function runWorkload(
  plan: WorkloadPlan,
  w: Workload,
  ctx: { startedAt: number; endAt: number; random: Random },
): Promise<void> {
  for (const action of plan.actions) {
    if (ctx.startedAt + action.at > ctx.endAt) break;
    await sleepUntil(ctx.startedAt + action.at);
    w.track(perform(action, w, ctx.random));
  }
}

async function perform(action: Action, w: Workload, random: Random): Promise<void> {
  const user = (i: number) => w.users[i]!;
  switch (action.kind) {
    case 'tickets':
      return w.services.publishTickets(action.tickets);
    case 'order':
      return w.lives.live(user(action.user), action.ticket, action.fate, String(action.id));
    case 'contended': {
      // several users at once for one ticket: at most one may hold it
      const fate: Fate = { kind: 'expire' };
      await Promise.all(action.users.map((u) => w.lives.live(user(u), action.ticket, fate, `${action.id}-${u}`)));
      return;
    }
    case 'ticket-updates':
      return w.services.publishTicketUpdates(action.ticket, action.versions, random.fork(`updates-${action.id}`));
    case 'poison': {
      const ended = [...w.ledger.placed.values()].filter((o) => o.expiresAt < Date.now() - 3000);
      const target = ended.length ? ended[action.pick % ended.length]!.orderId : undefined;
      return w.services.publishPoison(action.poison, action.id, target);
    }
    case 'stray-payment':
      return w.services.publishPayment(`pay-${action.id}-stray`, action.orderId, 'unknown-order');
    case 'read':
      return read(user(action.user), action.pick, w);
    case 'intrude':
      return intrude(user(action.user), action, w);
  }
}

/** The user's list (any order of another user in it breaks invariant 6), or one of its orders. */
async function read(me: User, pick: number, ctx: Workload): Promise<void> {
  const mine = [...ctx.ledger.placed.values()].filter((o) => o.userId === me.id);
  if (pick % 2 === 0 && mine.length > 0) return ctx.lives.observe(me, mine[pick % mine.length]!.orderId);
  const { reply } = await ctx.api.asUser(me, 'GET', '/api/orders');
  if (!Array.isArray(reply.body)) return;
  const leaked = (reply.body as Array<{ id: string; userId: string }>).filter((o) => o.userId !== me.id);
  if (leaked.length > 0)
    ctx.ledger.intrusions.push({
      how: 'list',
      by: me.id,
      status: reply.status,
      leaked: leaked.map((o) => o.id),
      at: Date.now(),
    });
}

/** Another user's order, read or cancelled with the user's own session, or with a token it forged. */
async function intrude(me: User, action: Extract<Action, { kind: 'intrude' }>, ctx: Workload): Promise<void> {
  const theirs = [...ctx.ledger.placed.values()].filter((o) => o.userId !== me.id);
  if (theirs.length === 0) return;
  const victim = theirs[action.pick % theirs.length]!;
  const path = `/api/orders/${victim.orderId}`;
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  const base64url = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const reply = await (() => {
    switch (action.how) {
      case 'get':
        return ctx.api.send('GET', path, { cookie: me.cookie });
      case 'delete':
        return ctx.api.send('DELETE', path, { cookie: me.cookie });
      case 'forged-token':
        return ctx.api.send('GET', path, bearer(jwt.sign({ id: victim.userId }, 'not-the-shared-secret')));
      case 'unsigned-token':
        return ctx.api.send(
          'GET',
          path,
          bearer(`${base64url({ alg: 'none', typ: 'JWT' })}.${base64url({ id: victim.userId })}.`),
        );
    }
  })();
  ctx.ledger.intrusions.push({
    how: action.how,
    by: me.id,
    orderId: victim.orderId,
    owner: victim.userId,
    status: reply.status,
    at: Date.now(),
  });
}
