/**
 * The workload's schedule, drawn from the seed before the run starts: when tickets are published,
 * which user orders which ticket and what then becomes of the order (its fate: paid early, paid
 * racing the deadline within ±200 ms, paid late, paid twice, deleted, left to expire, or its hold
 * extended, with or without an Idempotency-Key: then paid, racing the deadline, or racing a payment), reads,
 * tries at other users' orders, ticket updates out of order, and poison messages.
 */
import type { Random } from '../random';

export type Fate =
  | { kind: 'expire' }
  | { kind: 'pay-early'; afterMs: number }
  | { kind: 'pay-race'; offsetMs: number }
  | { kind: 'pay-late'; afterExpiryMs: number }
  | { kind: 'pay-duplicate'; afterMs: number; againAfterMs: number }
  | { kind: 'pay-twice'; afterMs: number; secondAfterMs: number }
  | { kind: 'delete'; afterMs: number }
  | { kind: 'delete-then-pay'; afterMs: number; payAfterMs: number }
  | { kind: 'extend-then-pay'; afterMs: number; keyed: boolean; payAfterMs: number }
  | { kind: 'extend-racing-deadline'; offsetMs: number; keyed: boolean }
  | { kind: 'extend-racing-payment'; afterMs: number; keyed: boolean };

export type PoisonKind =
  | 'crlf-id-unknown-order'
  | 'crlf-id-ended-order'
  | 'huge-id'
  | 'bad-json-payment'
  | 'wrong-types-payment'
  | 'empty-payment'
  | 'bad-json-ticket'
  | 'wrong-types-ticket-update';

export type Action = { at: number; id: number } & (
  | { kind: 'tickets'; tickets: string[] }
  | { kind: 'order'; user: number; ticket: string; fate: Fate }
  | { kind: 'contended'; users: number[]; ticket: string }
  | { kind: 'read'; user: number; pick: number }
  | { kind: 'intrude'; user: number; pick: number; how: 'get' | 'delete' | 'forged-token' | 'unsigned-token' }
  | { kind: 'ticket-updates'; ticket: string; versions: number[] }
  | { kind: 'poison'; poison: PoisonKind; pick: number }
  | { kind: 'stray-payment'; orderId: string }
);

export interface WorkloadPlan {
  users: string[];
  actions: Action[];
}

const USERS = 12;
const FIRST_TICKETS = 120;
/** Mean time between two new orders. */
const ORDER_EVERY_MS = 420;

export function planFate(random: Random, windowMs: number): Fate {
  const early = () => random.between(300, windowMs * 0.6);
  const fates = { expire: 24, early: 15, race: 20, late: 8, duplicate: 7, twice: 6, del: 12, delPay: 8 };
  switch (random.weighted({ ...fates, extendPay: 5, extendRace: 5, extendPayRace: 4 })) {
    case 'expire':
      return { kind: 'expire' };
    case 'early':
      return { kind: 'pay-early', afterMs: early() };
    case 'race':
      return { kind: 'pay-race', offsetMs: random.between(-200, 200) };
    case 'late':
      return { kind: 'pay-late', afterExpiryMs: random.between(500, 5000) };
    case 'duplicate':
      return { kind: 'pay-duplicate', afterMs: early(), againAfterMs: random.between(50, 3000) };
    case 'twice':
      return { kind: 'pay-twice', afterMs: early(), secondAfterMs: random.between(200, 3000) };
    case 'del':
      return { kind: 'delete', afterMs: random.between(300, windowMs * 0.8) };
    case 'delPay':
      return {
        kind: 'delete-then-pay',
        afterMs: random.between(300, windowMs * 0.6),
        payAfterMs: random.between(1000, 3000),
      };
    case 'extendPay':
      return { kind: 'extend-then-pay', afterMs: early(), keyed: random.chance(0.5), payAfterMs: early() };
    case 'extendRace':
      return { kind: 'extend-racing-deadline', offsetMs: random.between(-300, 300), keyed: random.chance(0.5) };
    case 'extendPayRace':
      return { kind: 'extend-racing-payment', afterMs: early(), keyed: random.chance(0.5) };
  }
}

export function planWorkload(random: Random, durationMs: number, windowMs: number): WorkloadPlan {
  const users = Array.from({ length: USERS }, () => random.hex(24));
  const actions: Array<Action extends infer A ? (A extends Action ? Omit<A, 'id'> : never) : never> = [];
  const published: Array<{ id: string; at: number }> = [];
  const versions = new Map<string, number>();
  const publish = (at: number, count: number) => {
    const tickets = Array.from({ length: count }, () => random.hex(24));
    tickets.forEach((id) => published.push({ id, at }));
    tickets.forEach((id) => versions.set(id, 0));
    actions.push({ at, kind: 'tickets', tickets });
    return tickets;
  };
  /** A ticket the service has had time to learn. */
  const knownTicket = (at: number) => random.pick(published.filter((t) => t.at < at - 3000)).id;

  publish(0, FIRST_TICKETS);
  for (let at = 15_000; at < durationMs; at += 10_000) publish(at - 5000, 25);
  for (let at = 4000; at < durationMs; at += random.between(0.2, 1.8) * ORDER_EVERY_MS) {
    if (random.chance(0.04)) {
      const [ticket] = publish(at - 3500, 1);
      const contenders = random.shuffle(users.map((_, i) => i)).slice(0, random.int(2, 4));
      actions.push({ at, kind: 'contended', users: contenders, ticket: ticket! });
    } else {
      actions.push({
        at,
        kind: 'order',
        user: random.int(0, USERS - 1),
        ticket: knownTicket(at),
        fate: planFate(random, windowMs),
      });
    }
  }
  for (let at = 6000; at < durationMs; at += random.between(500, 2500))
    actions.push({ at, kind: 'read', user: random.int(0, USERS - 1), pick: random.int(0, 1e6) });
  for (let at = 8000; at < durationMs; at += random.between(1500, 6000)) {
    const how = random.weighted({ get: 4, delete: 3, 'forged-token': 1, 'unsigned-token': 1 });
    actions.push({ at, kind: 'intrude', user: random.int(0, USERS - 1), pick: random.int(0, 1e6), how });
  }
  for (let at = 7000; at < durationMs; at += random.between(4000, 12_000)) {
    const ticket = knownTicket(at);
    const from = versions.get(ticket)! + 1;
    const count = random.int(2, 4);
    versions.set(ticket, from + count - 1);
    const inOrder = Array.from({ length: count }, (_, i) => from + i);
    actions.push({ at, kind: 'ticket-updates', ticket, versions: random.shuffle(inOrder) });
  }
  for (let at = 10_000; at < durationMs; at += random.between(10_000, 30_000))
    actions.push({ at, kind: 'stray-payment', orderId: random.hex(24) }); // an order this service never had
  const poisonKinds: PoisonKind[] = [
    'crlf-id-unknown-order',
    'crlf-id-ended-order',
    'huge-id',
    'bad-json-payment',
    'wrong-types-payment',
    'empty-payment',
    'bad-json-ticket',
    'wrong-types-ticket-update',
  ];
  const poisonCount = Math.max(4, Math.round(durationMs / 20_000));
  for (let i = 0; i < poisonCount; i++) {
    const at = random.between(windowMs + 5000, Math.max(windowMs + 6000, durationMs - 5000));
    actions.push({ at, kind: 'poison', poison: random.pick(poisonKinds), pick: random.int(0, 1e6) });
  }
  actions.sort((a, b) => a.at - b.at);
  return { users, actions: actions.map((a, id) => ({ ...a, id }) as Action) };
}
