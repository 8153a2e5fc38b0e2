/**
 * Determinism guard: every recorded history (paid, expired, cancelled, late payments, extended) must
 * replay against the current workflow code. Orders sleep for minutes while new versions
 * deploy, so a change to the workflow's steps needs `patched()`, or this test fails.
 * Re-record after an intended, patched change: `npm run record-histories`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from '@temporalio/worker';

const dir = path.join(__dirname, 'histories');
const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json'));

test('the recorded histories cover paid, expired, cancelled, late-payment and extended orders', () => {
  expect(files.sort()).toEqual(
    expect.arrayContaining([
      'cancelled.json',
      'duplicate-payments.json',
      'expired.json',
      'extended.json',
      'paid.json',
      'payment-during-expiry.json',
    ]),
  );
});

test.each(files)('when %s is replayed on the current workflow code, then it is deterministic', async (file) => {
  const history: unknown = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
  await expect(
    Worker.runReplayHistory({ workflowsPath: require.resolve('../../src/workflows') }, history, `replay-${file}`),
  ).resolves.toBeUndefined();
});
