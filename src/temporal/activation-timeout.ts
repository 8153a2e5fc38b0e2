import type { WorkerOptions } from '@temporalio/worker';

/**
 * `options` with the deadline of one workflow activation (TEMPORAL_WORKFLOW_ACTIVATION_TIMEOUT_SECONDS:
 * docs/operations.md, "A worker that resumes from a long stall"). Worker.create honours the SDK's
 * `isolateExecutionTimeout`, but its public WorkerOptions type leaves it out ("not exposed at the
 * moment"); test/workflows/order.workflow.test.ts fails if an SDK upgrade stops reading it.
 */
export function withActivationTimeout(options: WorkerOptions, timeoutMs: number): WorkerOptions {
  return { ...options, isolateExecutionTimeout: timeoutMs } as WorkerOptions;
}
