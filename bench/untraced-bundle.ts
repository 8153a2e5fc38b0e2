/**
 * An experiment, off by default (BENCH_UNTRACED_BUNDLE=1): the order workflow bundled without the
 * OpenTelemetry workflow interceptors that the production bundle always holds (scripts/bundle-workflows.ts).
 * With tracing off they export nothing, yet the worker's profile spends about a third of its workflow
 * CPU in them (README, "Performance"). They add no workflow commands, so histories replay either way.
 */
import fs from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { ROOT } from '../scripts/lib/servers';
import { log } from './config';

export const untracedBundle = process.env.BENCH_UNTRACED_BUNDLE === '1';

/** Writes the bundle into `dir` and returns its path. */
export async function buildUntracedBundle(dir: string): Promise<string> {
  const { code } = await bundleWorkflowCode({ workflowsPath: path.join(ROOT, 'src', 'workflows') });
  const file = path.join(dir, 'workflow-bundle-untraced.js');
  fs.writeFileSync(file, code);
  log(`experiment: the worker runs a workflow bundle without the tracing interceptors (${file})`);
  return file;
}
