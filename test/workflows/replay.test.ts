/**
 * Determinism guard: every recorded history (paid, expired, cancelled, late payments, extended,
 * reminded, and one started before the reminder and finished after it) must replay against the
 * current workflow code. Orders sleep for minutes while new versions deploy, so a change to the
 * workflow's steps needs `patched()`, or this test fails: the last test shows it does.
 * Histories are kept, never re-recorded: each stands for the workflows that the code of its day
 * started. `npm run record-histories` adds the missing ones (docs/changing-the-workflow.md).
 */
import fs from 'node:fs';
import path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker, type ReplayWorkerOptions } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { WORKFLOW_TRACING_INTERCEPTORS } from '../../src/tracing';

const dir = path.join(__dirname, 'histories');
const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json'));
/** Every ending again, recorded once the steps ran as local activities (LOCAL_STEPS_PATCH). */
const LOCAL_STEPS_HISTORIES = [
  'cancelled',
  'discarded',
  'duplicate-payments',
  'expired',
  'extended',
  'paid',
  'payment-during-expiry',
  'reminded',
  'reminded-extended',
].map((name) => `local-steps-${name}.json`);
const read = (file: string): unknown => JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));

test('the recorded histories cover paid, expired, cancelled, late-payment, extended and reminded orders, from before and after the reminder', () => {
  expect(files.sort()).toEqual(
    expect.arrayContaining([
      // recorded before order:expiring (the patch's old branch)
      'cancelled.json',
      'duplicate-payments.json',
      'expired.json',
      'extended.json',
      'paid.json',
      'payment-during-expiry.json',
      // started on the old code, finished on the new one
      'started-before-reminder.json',
      // recorded with order:expiring (the patch's new branch)
      'reminded.json',
      'reminded-extended.json',
      // ended by the API's discard of an order it never recorded
      'discarded.json',
      // recorded with the steps as local activities (LOCAL_STEPS_PATCH)
      ...LOCAL_STEPS_HISTORIES,
    ]),
  );
});

// A worker runs the bundle with the tracing interceptors or its twin without them, whichever its
// tracing setting picks (src/worker.ts): turning tracing on or off must not break a waiting order.
// The traced one hands its spans to the `exporter` sink, which a replay drops.
const bundles: Record<string, Partial<ReplayWorkerOptions>> = {
  untraced: {},
  traced: {
    interceptors: { workflowModules: [WORKFLOW_TRACING_INTERCEPTORS] },
    sinks: { exporter: { export: { fn: () => undefined } } },
  },
};

describe.each(Object.entries(bundles))('on the %s workflow code', (kind, options) => {
  test.each(files)('when %s is replayed, then it is deterministic', async (file) => {
    await expect(
      Worker.runReplayHistory(
        { workflowsPath: require.resolve('../../src/workflows'), ...options },
        read(file),
        `replay-${kind}-${file}`,
      ),
    ).resolves.toBeUndefined();
  });
});

test('when the same change is made without patched(), then the histories of orders that waited for their deadline on the old code fail to replay (CI would stop it)', async () => {
  const replayed = Worker.runReplayHistories(
    { workflowsPath: require.resolve('./fixtures/order.workflow.unpatched'), replayName: 'unpatched' },
    files.map((file) => ({ workflowId: file, history: historyFromJSON(read(file)) })),
  );
  const violations: string[] = [];
  for await (const { workflowId, error } of replayed) {
    if (error) {
      expect(error).toBeInstanceOf(DeterminismViolationError);
      violations.push(workflowId);
    }
  }
  expect(violations.sort()).toEqual(
    [
      'discarded.json', // recorded with patched(): its marker, unmatched, fails
      // waited for the deadline on the old code: the unpatched code takes the reminder's steps instead
      'expired.json',
      'extended.json',
      'payment-during-expiry.json',
      'reminded-extended.json', // recorded with patched(): its marker, unmatched, fails as well
      'reminded.json',
      'started-before-reminder.json',
    ].sort(),
  );
  // paid.json, cancelled.json, duplicate-payments.json ended before a reminder was due, and the
  // local-steps-*.json histories have the reminder by their own marker: they replay either way
});
