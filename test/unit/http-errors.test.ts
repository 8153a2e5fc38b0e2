/** The one mapping from the domain's errors, the database's and Express's to HTTP statuses and messages. */
import pino from 'pino';
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
import { TooManyRequestsError } from '../../src/api/http-errors';

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
  [
    'PostgreSQL 57014 (past statement_timeout)',
    Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014' }),
    503,
    busy,
  ],
  [
    'pg: no connection within connectionTimeoutMillis',
    new Error('Connection terminated due to connection timeout'),
    503,
    busy,
  ],
  ['pg pool: no free connection in time', new Error('timeout exceeded when trying to connect'), 503, busy],
  ['pg: no answer within query_timeout', new Error('Query read timeout'), 503, busy],
  ['pg: a client closed after a lost answer', new Error('Client was closed and is not queryable'), 503, busy],
  ['bad JSON', Object.assign(new Error('x'), { type: 'entity.parse.failed' }), 400, 'Request body is not valid JSON'],
  ['too large', Object.assign(new Error('x'), { type: 'entity.too.large' }), 413, 'Request body is too large'],
  ...bodyParserErrors(),
  ['TooManyRequestsError', new TooManyRequestsError('Too many requests', 30), 429, 'Too many requests'],
])('when the error is %s, then the answer is %i in the error shape', (_what, err, status, message) => {
  const http = toHttpError(err);
  expect(http?.statusCode).toBe(status);
  expect(http?.toJSON()).toEqual({ errors: [{ message }] });
});

test('when the error is unknown, then nothing maps it (the handler answers 500 and logs it)', () => {
  expect(toHttpError(new Error('bug'))).toBeUndefined();
});

test("when a RetryLaterError has a cause (Temporal's or the database's error), then the answer is the service's own words, and the log gets the cause", () => {
  const cause = new Error('14 UNAVAILABLE: No connection established. Last error: connect ECONNREFUSED 10.9.8.7:7233');
  const err = new RetryLaterError(
    "Temporal did not confirm the order's workflow. Nothing was recorded; retrying is safe.",
    {
      cause,
    },
  );
  expect(toHttpError(err)?.toJSON()).toEqual({
    errors: [{ message: "Temporal did not confirm the order's workflow. Nothing was recorded; retrying is safe." }],
  });
  expect(pino.stdSerializers.err(err).message).toContain(cause.message); // what errorHandler logs with the 503
});

/** Body-parser's and the router's errors as they raise them: the raw messages must never reach the client. */
function bodyParserErrors(): [string, Error, number, string][] {
  const raised = (status: number, message: string, extra: object = {}) =>
    Object.assign(new Error(message), { status, statusCode: status, expose: true }, extra);
  return [
    [
      'unsupported charset',
      raised(415, 'unsupported charset "BOGUS"', { type: 'charset.unsupported', charset: 'bogus' }),
      415,
      'Unsupported charset: send JSON as UTF-8',
    ],
    [
      'unsupported encoding',
      raised(415, 'unsupported content encoding "x"', { type: 'encoding.unsupported' }),
      415,
      'Unsupported Content-Encoding: send gzip, deflate, br or an uncompressed body',
    ],
    [
      'zlib garbage',
      raised(400, 'incorrect header check', { code: 'Z_DATA_ERROR', errno: -3 }),
      400,
      'Request body could not be decompressed as its Content-Encoding says',
    ],
    [
      'truncated gzip',
      raised(400, 'unexpected end of file', { code: 'Z_BUF_ERROR' }),
      400,
      'Request body could not be decompressed as its Content-Encoding says',
    ],
    [
      'request aborted',
      raised(400, 'request aborted', { type: 'request.aborted' }),
      400,
      'Request was aborted before its body was received',
    ],
    [
      'size mismatch',
      raised(400, 'request size did not match content length', { type: 'request.size.invalid' }),
      400,
      'Request body does not match its Content-Length',
    ],
    ['verify failed', raised(403, 'nope', { type: 'entity.verify.failed' }), 400, 'Request body was refused'],
    [
      'too many parameters',
      raised(413, 'too many parameters', { type: 'parameters.too.many' }),
      413,
      'Request body has more parameters than allowed',
    ],
    [
      'undecodable path parameter',
      Object.assign(new URIError("Failed to decode param '%E0%A4%A'"), { status: 400 }),
      400,
      'Request URL is not correctly encoded',
    ],
    ['a 415 without a type', raised(415, 'library words'), 415, 'Unsupported media type'],
    ['a 408', raised(408, 'library words'), 408, 'Request was not received in time'],
    ['a 431', raised(431, 'library words'), 431, 'Request headers are too large'],
    ['any other 4xx', raised(422, 'library words "quoted input"'), 400, 'Bad request'],
    ['a type named like an Object method', raised(400, 'library words', { type: 'constructor' }), 400, 'Bad request'],
  ];
}

test('when a 4xx comes from a library, then its message is never the answer', () => {
  for (const [, err] of bodyParserErrors()) {
    expect(JSON.stringify(toHttpError(err)?.toJSON())).not.toContain(err.message);
  }
});

test('when an error carries a 5xx status, then nothing maps it (the handler answers 500 and logs it)', () => {
  expect(toHttpError(Object.assign(new Error('stream encoding should not be set'), { status: 500 }))).toBeUndefined();
});
