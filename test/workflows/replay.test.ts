/**
 * Determinism guard: every recorded history (paid, expired, cancelled, late payments, extended,
 * reminded, and one started before the reminder and finished after it) must replay against the
 * current workflow code. Orders sleep for minutes while new versions deploy, so a change to the
 * workflow's steps needs `patched()`, or this test fails: the last test shows it does.
 * Histories are kept, never re-recorded: each stands for the workflows that the code of its day
 * started. `npm run record-histories` adds the missing ones (README, "Changing the workflow safely").
 */
import fs from 'node:fs';
import path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';

const dir = path.join(__dirname, 'histories');
const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json'));
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
    ]),
  );
});

test.each(files)('when %s is replayed on the current workflow code, then it is deterministic', async (file) => {
  await expect(
    Worker.runReplayHistory({ workflowsPath: require.resolve('../../src/workflows') }, read(file), `replay-${file}`),
  ).resolves.toBeUndefined();
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
  expect(violations.sort()).toEqual([
    // waited for the deadline on the old code: the unpatched code takes the reminder's steps instead
    'expired.json',
    'extended.json',
    'payment-during-expiry.json',
    'reminded-extended.json', // recorded with patched(): its marker, unmatched, fails as well
    'reminded.json',
    'started-before-reminder.json',
  ]);
  // paid.json, cancelled.json, duplicate-payments.json ended before a reminder was due: they replay either way
});
