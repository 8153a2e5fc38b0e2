/** Reading Temporal histories, for the tests and the bench alike. */
import type { WorkflowHandle } from '@temporalio/client';

export type HistoryEvent = NonNullable<Awaited<ReturnType<WorkflowHandle['fetchHistory']>>['events']>[number];

/** The marker the SDK's core records for a local activity's result. */
export const LOCAL_ACTIVITY_MARKER = 'core_local_activity';

/** An event's instant in ms, from its seconds and nanoseconds (whole seconds alone lose the sub-second part). */
export const eventMs = (e: HistoryEvent): number =>
  Number(e.eventTime?.seconds ?? 0) * 1000 + (e.eventTime?.nanos ?? 0) / 1e6;
