/** The one mapping from the domain's errors, the database's and Express's to HTTP statuses and messages. */
import { toHttpError } from '../../src/api/error-handler';
import {
  ConcurrentChangeError,
  HoldExtensionLimitError,
  NotOrderOwnerError,
  OrderNotActiveError,
  OrderCompleteError,
  OrderExpiredBeforeRecordedError,
  OrderNotFoundError,
  RetryLaterError,
  TicketAlreadyReservedError,
  TicketNotFoundError,
} from '../../src/orders/errors';

const busy = 'A dependency is busy or unavailable; try again';

test.each([
  ['TicketNotFoundError', new TicketNotFoundError(), 404, 'Ticket not found'],
  ['OrderNotFoundError', new OrderNotFoundError(), 404, 'Order not found'],
  ['NotOrderOwnerError', new NotOrderOwnerError(), 401, 'Not authorized'],
  ['TicketAlreadyReservedError', new TicketAlreadyReservedError(), 400, 'Ticket is already reserved'],
  ['OrderCompleteError', new OrderCompleteError(), 400, 'Cannot cancel an order that is complete'],
  ['OrderNotActiveError', new OrderNotActiveError('cancelled'), 409, 'Order is already cancelled'],
  [
    'HoldExtensionLimitError',
    new HoldExtensionLimitError(1),
    409,
    'The hold of an order can be extended at most 1 time',
  ],
  [
    'OrderExpiredBeforeRecordedError',
    new OrderExpiredBeforeRecordedError(),
    503,
    'The order expired before it was recorded; try again',
  ],
  ['RetryLaterError', new RetryLaterError('Temporal did not answer'), 503, 'Temporal did not answer'],
  ['ConcurrentChangeError', new ConcurrentChangeError('o1'), 503, busy],
  ['SQLITE_BUSY', Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' }), 503, busy],
  ['PostgreSQL 57P01', Object.assign(new Error('terminating connection'), { code: '57P01' }), 503, busy],
  ['pg connection terminated', new Error('Connection terminated unexpectedly'), 503, busy],
  ['bad JSON', Object.assign(new Error('x'), { type: 'entity.parse.failed' }), 400, 'Request body is not valid JSON'],
  ['too large', Object.assign(new Error('x'), { type: 'entity.too.large' }), 413, 'Request body is too large'],
])('when the error is %s, then the answer is %i in the error shape', (_what, err, status, message) => {
  const http = toHttpError(err);
  expect(http?.statusCode).toBe(status);
  expect(http?.toJSON()).toEqual({ errors: [{ message }] });
});

test('when the error is unknown, then nothing maps it (the handler answers 500 and logs it)', () => {
  expect(toHttpError(new Error('bug'))).toBeUndefined();
});
