import type { Client } from '@temporalio/client';
import { LOCAL_ACTIVITY_MARKER, type HistoryEvent } from '../../scripts/lib/workflow-history';
import { orderWorkflowId } from '../../src/workflows/shared';

export { eventMs } from '../../scripts/lib/workflow-history';

/**
 * The names of the signals in an order's workflow history, in order: what reached the workflow,
 * whether or not a worker has acted on it yet (tests that run no worker read them here).
 */
export async function signalsOf(temporal: Client, orderId: string): Promise<string[]> {
  const history = await temporal.workflow.getHandle(orderWorkflowId(orderId)).fetchHistory();
  return (history.events ?? []).flatMap((e) =>
    e.workflowExecutionSignaledEventAttributes ? [e.workflowExecutionSignaledEventAttributes.signalName ?? ''] : [],
  );
}

/**
 * The name of the order step (src/workflows/steps.ts) that this event records, or undefined: a
 * regular activity when it is scheduled, a local activity when its result is recorded (a marker
 * that names it in its `data` detail).
 */
export function stepOf(e: HistoryEvent): string | undefined {
  const scheduled = e.activityTaskScheduledEventAttributes?.activityType?.name;
  if (scheduled) return scheduled;
  const marker = e.markerRecordedEventAttributes;
  if (marker?.markerName !== LOCAL_ACTIVITY_MARKER) return undefined;
  const data = marker.details?.data?.payloads?.[0]?.data;
  return data ? (JSON.parse(Buffer.from(data).toString('utf8')) as { activity_type: string }).activity_type : undefined;
}

/** The steps a history ran, by name, in order (regular or local activities alike). */
export const stepsIn = (events: HistoryEvent[]): string[] => events.flatMap((e) => stepOf(e) ?? []);

/** The `patched()` markers of a history (not the local activities' markers). */
export const patchMarkersIn = (events: HistoryEvent[]): number =>
  events.filter((e) => e.markerRecordedEventAttributes && !stepOf(e)).length;
