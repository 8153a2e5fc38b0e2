/**
 * The order domain on its own: plain functions, no database, no Temporal, no bus. Every
 * transition of the state machine, and what each decision writes and publishes.
 */
import {
  cancelByUser,
  expire,
  extendHold,
  extensionRefusal,
  pay,
  place,
  rejectPayment,
  remindExpiring,
} from '../../src/orders/decisions';
import {
  HoldExtensionLimitError,
  HoldLapsedError,
  InvalidTransitionError,
  OrderNotActiveError,
  OrderNotFoundError,
} from '../../src/orders/errors';
import { OrderStatus, type HoldPolicy, type NewOrder, type OrderRecord } from '../../src/orders/order';
import { canTransition, prolong, transition } from '../../src/orders/transitions';

const { Created, AwaitingPayment, Complete, Cancelled } = OrderStatus;
const ALL = [Created, AwaitingPayment, Complete, Cancelled];

const order: NewOrder = {
  orderId: 'o1',
  userId: 'u1',
  ticket: { id: 't1', title: 'concert', price: 10 },
  expiresAt: '2026-01-01T00:15:00.000Z',
};
const record = (status: OrderRecord['status'], extra: Partial<OrderRecord> = {}): OrderRecord => ({
  id: 'o1',
  userId: 'u1',
  ticketId: 't1',
  status,
  expiresAt: order.expiresAt,
  version: 3,
  paymentId: null,
  createdAt: '2026-01-01T00:00:00.000Z',
  extensions: 0,
  ending: null,
  tombstone: false,
  ...extra,
});
const payment = { id: 'p1', orderId: 'o1', stripeId: 'ch_1' };

describe('the state machine', () => {
  const allowed: Array<[string, string]> = [
    [Created, AwaitingPayment],
    [Created, Complete],
    [Created, Cancelled],
    [AwaitingPayment, Complete],
    [AwaitingPayment, Cancelled],
  ];

  test.each(ALL.flatMap((from) => ALL.map((to) => [from, to] as const)))(
    'when an order in %s is moved to %s, then it is allowed only along the contract',
    (from, to) => {
      const expected = allowed.some(([f, t]) => f === from && t === to);
      expect(canTransition(from, to)).toBe(expected);
      if (expected) {
        expect(transition({ id: 'o1', status: from, version: 3 }, to)).toEqual({
          orderId: 'o1',
          expectedVersion: 3,
          status: to,
          version: 4,
        });
      } else {
        expect(() => transition({ id: 'o1', status: from, version: 3 }, to)).toThrow(InvalidTransitionError);
      }
    },
  );
});

describe('placing an order', () => {
  test('when an order is placed, then it is recorded as created, version 0, with order:created', () => {
    const change = place(order, '2026-01-01T00:00:00.000Z', 7);
    expect(change.insert).toEqual({ ...record(Created), version: 0 });
    expect(change.result).toEqual({
      id: 'o1',
      userId: 'u1',
      status: Created,
      expiresAt: order.expiresAt,
      version: 0,
      ticket: { id: 't1', title: 'concert', price: 10, version: 7 },
    });
    expect(change.events).toEqual([
      {
        subject: 'order:created',
        msgId: 'order:created:o1',
        data: {
          id: 'o1',
          version: 0,
          status: Created,
          userId: 'u1',
          expiresAt: order.expiresAt,
          ticket: { id: 't1', price: 10 },
        },
      },
    ]);
  });
});

describe('cancelling, expiring and paying', () => {
  test('when an active order is cancelled by its user, then version + 1 and order:cancelled', () => {
    const change = cancelByUser('o1').decide(record(Created));
    expect(change.result).toEqual({ status: Cancelled });
    expect(change.update).toEqual({
      orderId: 'o1',
      expectedVersion: 3,
      status: Cancelled,
      version: 4,
      ending: 'cancelled-by-user',
    });
    expect(change.events).toEqual([
      { subject: 'order:cancelled', msgId: 'order:cancelled:o1', data: { id: 'o1', version: 4, ticket: { id: 't1' } } },
    ]);
  });

  test.each([[record(Complete)], [record(Cancelled)], [record(Cancelled, { tombstone: true })], [undefined]])(
    'when the order to cancel is ended or missing (%j), then nothing changes',
    (current) => {
      expect(cancelByUser('o1').decide(current)).toEqual({ result: { status: current?.status }, events: [] });
    },
  );

  test('when an active order expires, then expiration:complete, then order:cancelled', () => {
    const change = expire(order, '2026-01-01T00:15:01.000Z').decide(record(AwaitingPayment));
    expect(change).toMatchObject({
      result: { status: Cancelled, ending: 'expired' },
      update: { version: 4, ending: 'expired' },
    });
    expect(change.events.map((e) => e.msgId)).toEqual(['expiration:complete:o1', 'order:cancelled:o1']);
  });

  test('when the expiry finds no order, then a cancelled tombstone takes its id and nothing is published', () => {
    const change = expire(order, '2026-01-01T00:15:01.000Z').decide(undefined);
    expect(change.insert).toMatchObject({
      id: 'o1',
      status: Cancelled,
      tombstone: true,
      createdAt: '2026-01-01T00:15:01.000Z',
      ending: 'expired',
    });
    expect(change.events).toEqual([]);
    expect(change.update).toBeUndefined();
  });

  test.each([
    [record(Complete, { ending: 'paid', paymentId: 'p0' }), { status: Complete, ending: 'paid', paymentId: 'p0' }],
    [record(Cancelled, { ending: 'cancelled-by-user' }), { status: Cancelled, ending: 'cancelled-by-user' }],
  ])('when an ended order (%j) expires, then nothing changes and it says how it ended', (current, outcome) => {
    expect(expire(order, 'now').decide(current)).toEqual({ result: outcome, events: [] });
  });

  test('when an active order is paid, then it is complete with the payment id and ends as paid', () => {
    const change = pay(payment).decide(record(Created));
    expect(change).toMatchObject({
      result: { accepted: true, status: Complete, ending: 'paid', paymentId: 'p1' },
      events: [],
    });
    expect(change.update).toEqual({
      orderId: 'o1',
      expectedVersion: 3,
      status: Complete,
      version: 4,
      paymentId: 'p1',
      ending: 'paid',
    });
  });

  test('when the payment that completed the order comes again, then it is accepted and nothing changes', () => {
    expect(pay(payment).decide(record(Complete, { paymentId: 'p1', ending: 'paid' }))).toEqual({
      result: { accepted: true, status: Complete, ending: 'paid', paymentId: 'p1' },
      events: [],
    });
  });

  test.each([
    [record(Complete, { paymentId: 'p0' }), 'order o1 is already complete', { status: Complete, paymentId: 'p0' }],
    [record(Cancelled), 'order o1 is already cancelled', { status: Cancelled }],
    [undefined, 'order o1 is unknown', { status: Cancelled }],
  ])(
    'when a payment finds the order ended or unknown (%j), then payment:rejected says why',
    (current, reason, outcome) => {
      const change = pay(payment).decide(current);
      expect(change.result).toEqual({ accepted: false, ...outcome });
      expect(change.update).toBeUndefined();
      expect(change.events).toEqual([
        { subject: 'payment:rejected', msgId: 'payment:rejected:p1', data: { ...payment, reason } },
      ]);
    },
  );

  test('when a late payment is refused, then payment:rejected is keyed by the payment', () => {
    expect(rejectPayment(payment, 'late').decide(record(Cancelled))).toEqual({
      result: { rejected: true },
      events: [{ subject: 'payment:rejected', msgId: 'payment:rejected:p1', data: { ...payment, reason: 'late' } }],
      decidedPayment: { paymentId: 'p1', orderId: 'o1', accepted: false },
    });
    // decided before (refused by the consumer, its outbox row since pruned): refused once, never twice
    const before = { paymentId: 'p1', orderId: 'o1', accepted: false };
    expect(rejectPayment(payment, 'late').decide(record(Cancelled), before)).toEqual({
      result: { rejected: true },
      events: [],
    });
  });

  test('when the late payment is the one that completed the order, then it is not refused', () => {
    expect(rejectPayment(payment, 'late').decide(record(Complete, { paymentId: 'p1' }))).toEqual({
      result: { rejected: false },
      events: [],
    });
  });
});

describe('a payment judged by when it was published (invariant 7)', () => {
  const before = '2026-01-01T00:14:59.999Z';
  const atDeadline = order.expiresAt;
  const after = '2026-01-01T00:15:00.001Z';

  test.each([[before], [atDeadline]])(
    'when a payment published at %s is decided after the deadline, then it still completes the active order',
    (publishedAt) => {
      expect(pay(payment, publishedAt).decide(record(Created)).result).toMatchObject({
        accepted: true,
        status: Complete,
      });
    },
  );

  test('when a payment was published after the deadline, then it is refused even while the expiry is pending', () => {
    const change = pay(payment, after).decide(record(Created));
    expect(change.result).toEqual({ accepted: false, status: Created });
    expect(change.update).toBeUndefined();
    expect(change.events[0]?.data).toMatchObject({ reason: expect.stringContaining('after order o1') });
  });

  test('when a payment published in time finds the order already cancelled, then it is refused', () => {
    expect(pay(payment, before).decide(record(Cancelled)).result).toEqual({ accepted: false, status: Cancelled });
  });
});

describe('extending the hold', () => {
  const policy = { maxExtensions: 2, extensionSeconds: 300 };
  const movedOnce = '2026-01-01T00:20:00.000Z';
  const deadline = order.expiresAt;
  const before = '2026-01-01T00:14:59.999Z'; // the last instant the first deadline can be extended
  const beforeMs = Date.parse(before);

  test.each([
    [Created, 0, policy, undefined],
    [AwaitingPayment, 1, policy, undefined],
    [Created, 2, policy, HoldExtensionLimitError],
    [Created, 0, { maxExtensions: 0, extensionSeconds: 300 }, HoldExtensionLimitError],
    [Created, 0, undefined, HoldExtensionLimitError],
    [Complete, 0, policy, OrderNotActiveError],
    [Cancelled, 0, policy, OrderNotActiveError],
  ] as const)(
    'when an order in %s extended %i times asks under %j, then the refusal is %p',
    (status, extensions, holdPolicy, refusal) => {
      const found = extensionRefusal({ status, extensions, expiresAt: deadline }, holdPolicy, beforeMs);
      if (refusal) expect(found).toBeInstanceOf(refusal);
      else expect(found).toBeUndefined();
    },
  );

  test('when the refusal is given, then its message says why', () => {
    const refusal = (status: OrderRecord['status'], extensions: number, holdPolicy: HoldPolicy | undefined) =>
      extensionRefusal({ status, extensions, expiresAt: deadline }, holdPolicy, beforeMs)?.message;
    expect(refusal(Cancelled, 0, policy)).toBe('Order is already cancelled');
    expect(refusal(Created, 2, policy)).toBe('The hold of an order can be extended at most 2 times');
    expect(refusal(Created, 0, undefined)).toBe('The hold of this order cannot be extended');
  });

  test.each([
    ['at the deadline', Date.parse(deadline)],
    ['a second after it', Date.parse(deadline) + 1000],
  ])('when an active order under its limit asks %s, then the hold has lapsed and is not extended', (_when, nowMs) => {
    const found = extensionRefusal({ status: Created, extensions: 0, expiresAt: deadline }, policy, nowMs);
    expect(found).toBeInstanceOf(HoldLapsedError);
    expect(found?.message).toBe(`The hold lapsed at ${deadline}: the order is expiring and can no longer be extended`);
    expect(() => extendHold(order, 1, policy, new Date(nowMs).toISOString()).decide(record(Created))).toThrow(
      HoldLapsedError,
    );
  });

  test('when an active order is extended, then expiresAt moves from the current deadline, version + 1, with order:updated', () => {
    expect(extendHold(order, 1, policy, before).decide(record(Created))).toEqual({
      result: { expiresAt: movedOnce, version: 4, extensions: 1 },
      update: {
        orderId: 'o1',
        expectedVersion: 3,
        status: Created,
        version: 4,
        expiresAt: movedOnce,
        extensions: 1,
      },
      events: [
        {
          subject: 'order:updated',
          msgId: 'order:updated:o1:4',
          data: {
            id: 'o1',
            version: 4,
            status: Created,
            userId: 'u1',
            expiresAt: movedOnce,
            ticket: { id: 't1', price: 10 },
          },
        },
      ],
    });
  });

  test('when the second extension is decided, then it moves the deadline again from the moved one', () => {
    const change = extendHold(order, 2, policy, before).decide(
      record(Created, { expiresAt: movedOnce, extensions: 1 }),
    );
    expect(change.result).toEqual({ expiresAt: '2026-01-01T00:25:00.000Z', version: 4, extensions: 2 });
  });

  test('when a retried activity finds its extension applied, then nothing changes and the result is the current deadline', () => {
    const applied = record(Created, { expiresAt: movedOnce, extensions: 1, version: 4 });
    expect(extendHold(order, 1, policy, before).decide(applied)).toEqual({
      result: { expiresAt: movedOnce, version: 4, extensions: 1 },
      events: [],
    });
  });

  test.each([
    ['no record', undefined, OrderNotFoundError],
    ['a tombstone', record(Cancelled, { tombstone: true }), OrderNotFoundError],
    ['a complete order', record(Complete), OrderNotActiveError],
    ['an order at its limit', record(Created, { extensions: 2 }), HoldExtensionLimitError],
  ])('when the extension finds %s, then it is refused', (_what, current, error) => {
    expect(() => extendHold(order, (current?.extensions ?? 0) + 1, policy, before).decide(current)).toThrow(error);
  });

  test('when an ended order is prolonged, then the state machine refuses it', () => {
    expect(() => prolong({ id: 'o1', status: Complete, version: 1, extensions: 0 }, movedOnce)).toThrow(
      InvalidTransitionError,
    );
  });
});

describe('reminding the holder before the deadline (order:expiring)', () => {
  const deadline = order.expiresAt;
  const before = '2026-01-01T00:13:00.000Z';

  test.each([[Created], [AwaitingPayment]])(
    'when the order is still %s until that deadline, then order:expiring, keyed by order and deadline, and nothing else changes',
    (status) => {
      expect(remindExpiring('o1', deadline, before).decide(record(status))).toEqual({
        result: { reminded: true },
        events: [
          {
            subject: 'order:expiring',
            msgId: `order:expiring:o1:${deadline}`,
            data: { id: 'o1', version: 3, userId: 'u1', expiresAt: deadline, ticket: { id: 't1' } },
          },
        ],
      });
    },
  );

  test.each([
    ['a complete order', record(Complete)],
    ['a cancelled order', record(Cancelled)],
    ['a tombstone', record(Cancelled, { tombstone: true })],
    ['no record', undefined],
    ['a deadline moved since (extended)', record(Created, { expiresAt: '2026-01-01T00:20:00.000Z', extensions: 1 })],
  ])('when the reminder finds %s, then nothing is published', (_what, current) => {
    expect(remindExpiring('o1', deadline, before).decide(current)).toEqual({ result: { reminded: false }, events: [] });
  });

  test.each([[deadline], ['2026-01-01T00:16:00.000Z']])(
    'when the reminder comes at or after the deadline (%s: retried through an outage), then nothing is published',
    (now) => {
      expect(remindExpiring('o1', deadline, now).decide(record(Created))).toEqual({
        result: { reminded: false },
        events: [],
      });
    },
  );

  test('when the deadline moves, then the reminder before the new one has its own message id', () => {
    const moved = '2026-01-01T00:20:00.000Z';
    const [first] = remindExpiring('o1', deadline, before).decide(record(Created)).events;
    const [second] = remindExpiring('o1', moved, before).decide(
      record(Created, { expiresAt: moved, version: 4 }),
    ).events;
    expect(first!.msgId).not.toBe(second!.msgId);
  });
});
