/** Chaos's log line: `[chaos +12.3s] …`, the time since the run started. */
const started = Date.now();

export const log = (msg: string): void => console.log(`[chaos +${((Date.now() - started) / 1000).toFixed(1)}s] ${msg}`);

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** Sleeps until the wall-clock time `at` (ms since the epoch). */
export const sleepUntil = (at: number): Promise<void> => sleep(at - Date.now());

export const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));
