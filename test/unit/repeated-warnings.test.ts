/** The collapsing of alike SDK warnings, interval by interval (jest's fake clock: no waiting). */
import { RepeatedWarnings } from '../../src/temporal/repeats';

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

test('when alike warnings repeat, then the first passes, the rest are counted, and the count is logged when the interval ends', () => {
  const summaries: unknown[] = [];
  const repeats = new RepeatedWarnings((s) => summaries.push(s), 60_000);
  const retry = (n: number) => repeats.admit('core temporalio_client::retry', `gRPC call start retried ${n} times`);

  expect([retry(5), retry(6), retry(7)]).toEqual([true, false, false]);
  expect(repeats.admit('core other', 'another warning')).toBe(true); // another kind has its own run
  expect(summaries).toEqual([]);

  jest.advanceTimersByTime(60_000);
  expect(summaries).toEqual([{ repeated: 2, last: 'gRPC call start retried 7 times', withinMs: 60_000 }]);
  expect(retry(8)).toBe(true); // a new interval starts with a full line
});

test('when the process stops, then the counts of the open intervals are logged at once', () => {
  const summaries: unknown[] = [];
  const repeats = new RepeatedWarnings((s) => summaries.push(s), 60_000);
  repeats.admit('core poll', 'Error while polling for activity tasks');
  repeats.admit('core poll', 'Error while polling for activity tasks');
  repeats.flush();
  expect(summaries).toEqual([{ repeated: 1, last: 'Error while polling for activity tasks', withinMs: 60_000 }]);
});
