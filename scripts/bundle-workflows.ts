/**
 * Builds the workflow bundles once, at build time (CI and the container image), so a bad import
 * in workflow code fails the build instead of the worker pod. The worker loads them when
 * WORKFLOW_BUNDLE points at the first:
 * - `dist/workflow-bundle.js` holds the OpenTelemetry workflow interceptors (src/tracing.ts), for a
 *   worker with tracing on;
 * - `dist/workflow-bundle.untraced.js` does not, for a worker with tracing off.
 */
import fs from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { untracedBundlePath, WORKFLOW_TRACING_INTERCEPTORS } from '../src/tracing';

async function writeBundle(file: string, workflowInterceptorModules: string[]): Promise<void> {
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('../src/workflows'),
    workflowInterceptorModules,
  });
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, code);
  console.log(`workflow bundle: ${path.relative(process.cwd(), file)} (${(code.length / 1024).toFixed(0)} KiB)`);
}

async function main(): Promise<void> {
  const out = path.resolve(process.argv[2] ?? 'dist/workflow-bundle.js');
  await writeBundle(out, [WORKFLOW_TRACING_INTERCEPTORS]);
  await writeBundle(untracedBundlePath(out), []);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
