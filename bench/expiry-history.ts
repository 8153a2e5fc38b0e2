/** The Temporal part of an expiry, read from the histories of a sample of expired orders. */
import type { Client } from '@temporalio/client';
import { orderWorkflowId } from '../src/workflows/shared';
import { eventMs, LOCAL_ACTIVITY_MARKER } from '../scripts/lib/workflow-history';
import { runConcurrently, spread, type Spread } from './load';

/** Every k-th order's history, for about this many of them (200 to 399); this many read at once. */
const SAMPLE = 200;
const CONCURRENCY = 16;

/**
 * The steps of an expiry: the timer fired after expiresAt; its workflow task waited for the worker;
 * the activity waited for the worker, then ran; then the workflow completed. A local activity runs
 * inside the workflow task: it waits for nothing, and it runs from the task's start to its marker.
 */
export type Step = 'timerFired' | 'taskWait' | 'activityWait' | 'activityRun' | 'completion';

export interface TemporalSteps {
  sampled: number;
  steps: Record<Step, Spread>;
  /** Workflow tasks that timed out: a worker too busy to take its sticky tasks in time. */
  taskTimeouts: number;
  /** History events per workflow, and workflow tasks per workflow (means over the sample). */
  eventsPerWorkflow: number;
  workflowTasksPerWorkflow: number;
}

/**
 * From each sampled history: when the timer fired after expiresAt, how long its workflow task
 * waited for the worker, how long the activity waited and ran, how long the workflow took to
 * complete after it; and how many workflow tasks timed out.
 */
export async function expiryInTemporal(
  client: Client,
  expiries: Array<[string, number]>,
  workflowId: (id: string) => string = orderWorkflowId,
): Promise<TemporalSteps> {
  const sample = expiries.filter((_, i) => i % Math.max(1, Math.floor(expiries.length / SAMPLE)) === 0);
  const steps: Record<Step, number[]> = {
    timerFired: [],
    taskWait: [],
    activityWait: [],
    activityRun: [],
    completion: [],
  };
  let taskTimeouts = 0;
  let events = 0;
  let tasks = 0;
  await runConcurrently(sample.length, CONCURRENCY, async (i) => {
    const [orderId, due] = sample[i]!;
    const history = (await client.workflow.getHandle(workflowId(orderId)).fetchHistory()).events ?? [];
    events += history.length;
    tasks += history.filter((e) => e.workflowTaskStartedEventAttributes).length;
    type Event = (typeof history)[number];
    /** When the first event of a kind happened, at or after `after`. */
    const at = (kind: (e: Event) => unknown, after = 0) =>
      history.filter((e) => kind(e) && eventMs(e) >= after).map(eventMs)[0] ?? NaN;
    taskTimeouts += history.filter((e) => e.workflowTaskTimedOutEventAttributes).length;
    // The deadline's timer is the last to fire (the default shape's reminder fires one first).
    const fired =
      history
        .filter((e) => e.timerFiredEventAttributes)
        .map(eventMs)
        .at(-1) ?? NaN;
    const taskStarted = at((e) => e.workflowTaskStartedEventAttributes, fired);
    const local = history.some((e) => e.markerRecordedEventAttributes?.markerName === LOCAL_ACTIVITY_MARKER);
    const scheduled = local ? taskStarted : at((e) => e.activityTaskScheduledEventAttributes, fired);
    const started = local ? taskStarted : at((e) => e.activityTaskStartedEventAttributes, fired);
    const completed = local
      ? at((e) => e.markerRecordedEventAttributes?.markerName === LOCAL_ACTIVITY_MARKER, fired)
      : at((e) => e.activityTaskCompletedEventAttributes, fired);
    steps.timerFired.push(fired - due);
    steps.taskWait.push(taskStarted - fired);
    steps.activityWait.push(started - scheduled);
    steps.activityRun.push(completed - started);
    steps.completion.push(at((e) => e.workflowExecutionCompletedEventAttributes) - completed);
  });
  return {
    sampled: sample.length,
    steps: Object.fromEntries(Object.entries(steps).map(([step, xs]) => [step, spread(xs)])) as Record<Step, Spread>,
    taskTimeouts,
    eventsPerWorkflow: events / sample.length,
    workflowTasksPerWorkflow: tasks / sample.length,
  };
}
