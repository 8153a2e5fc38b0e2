/**
 * What the other services publish is checked at the edge: any reasonable opaque id passes, and
 * an id that no NATS header (or index) could carry on into this service's events never does.
 */
import { PaymentCreatedEvent, TicketCreatedEvent } from '../../src/events/incoming';

const payment = (over: Record<string, unknown>) => ({ id: 'p1', orderId: 'o1', stripeId: 'ch_1', ...over });

describe('incoming events', () => {
  test.each([
    ['a 24-hex ObjectId', '5ec43ca50880b600192cf43d'],
    ['a UUID', '0b9c1a8e-6a4f-4b8e-9c1d-2f3e4a5b6c7d'],
    ['a prefixed id', 'pay_3MmlLrLkdIwHu7ix0snN0B15'],
    ['a non-ASCII id', 'paiement-été-№1'],
    ['128 characters', 'x'.repeat(128)],
  ])('when an id is %s, then it is accepted', (_what, id) => {
    expect(PaymentCreatedEvent.safeParse(payment({ id, orderId: id })).success).toBe(true);
  });

  test.each([
    ['empty', ''],
    ['CR/LF', 'p1\r\nNats-Expected-Stream: other'],
    ['a tab', 'p\t1'],
    ['a space', 'p 1'],
    ['a NUL', 'p\u00001'],
    ['a zero-width space', 'p\u200b1'],
    ['129 characters', 'x'.repeat(129)],
    ['600 kB', 'x'.repeat(600_000)],
    ['a number', 42],
  ])('when an id is %s, then the event is refused', (_what, id) => {
    expect(PaymentCreatedEvent.safeParse(payment({ id })).success).toBe(false);
    expect(PaymentCreatedEvent.safeParse(payment({ orderId: id })).success).toBe(false);
  });

  test('when a stripeId or a title is unbounded, then the event is refused', () => {
    expect(PaymentCreatedEvent.safeParse(payment({ stripeId: 'c'.repeat(255) })).success).toBe(true);
    expect(PaymentCreatedEvent.safeParse(payment({ stripeId: 'c'.repeat(256) })).success).toBe(false);
    const ticket = { id: 't1', version: 0, price: 10, userId: 'u1' };
    expect(TicketCreatedEvent.safeParse({ ...ticket, title: 'concert' }).success).toBe(true);
    expect(TicketCreatedEvent.safeParse({ ...ticket, title: 't'.repeat(600_000) }).success).toBe(false);
  });
});
