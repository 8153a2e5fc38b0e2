/**
 * The expiry activity never waits on another system's progress: with payments before the deadline
 * still to decide, its attempt fails at once (retryable), and Temporal tries again with back-off,
 * so the wait costs no activity slot (issue: one slow payments consumer used to hold a slot per
 * expiring order for 10 s at a time).
 */
import { ApplicationFailure } from '@temporalio/common';
import { createActivities, PAYMENTS_PENDING } from '../../src/activities';
import type { OrderRepository } from '../../src/orders/ports';

const order = {
  orderId: 'o1',
  userId: 'u1',
  ticket: { id: 't1', title: 'concert', price: 10 },
  expiresAt: '2026-01-01T00:15:00.000Z',
};
const untouched: Pick<OrderRepository, 'apply' | 'record'> = {
  apply: () => Promise.reject(new Error('the order must not be touched')),
  record: () => Promise.reject(new Error('the order must not be touched')),
};

test('when payments before the deadline are still to decide, then the expiry fails its attempt at once, retryably, and touches nothing', async () => {
  const asked: string[] = [];
  const activities = createActivities({
    orders: untouched,
    payments: { consumedUntil: async (deadline) => (asked.push(deadline), false) },
  });

  const failure = await activities.expireOrder(order).catch((err: unknown) => err);

  expect(failure).toBeInstanceOf(ApplicationFailure);
  expect(failure).toMatchObject({ type: PAYMENTS_PENDING, nonRetryable: false });
  expect(asked).toEqual([order.expiresAt]); // asked once: no polling inside the attempt
});
