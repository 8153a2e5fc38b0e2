/**
 * Builds the workflow bundle once, at build time (CI and the container image), so a bad import
 * in workflow code fails the build instead of the worker pod. The worker loads it when
 * WORKFLOW_BUNDLE points at it. It holds the OpenTelemetry workflow interceptors (src/tracing.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { WORKFLOW_TRACING_INTERCEPTORS } from '../src/tracing';

async function main(): Promise<void> {
  const out = path.resolve(process.argv[2] ?? 'dist/workflow-bundle.js');
  // Tracing's workflow interceptors are always in: a worker with OTEL_TRACES_EXPORTER set exports
  // their spans, one without drops them (worker.ts); the interceptors add no workflow commands.
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('../src/workflows'),
    workflowInterceptorModules: [WORKFLOW_TRACING_INTERCEPTORS],
  });
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, code);
  console.log(`workflow bundle: ${path.relative(process.cwd(), out)} (${(code.length / 1024).toFixed(0)} KiB)`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
