/**
 * Collapses runs of alike warnings. During a Temporal outage the SDK's core warns once per gRPC
 * retry of every call ("gRPC call start_workflow_execution retried 5 times", then 6, 7 ...): a
 * flood that buries everything else. The first of a kind is logged; the alike ones that follow
 * within `intervalMs` are only counted, and their number is logged once the interval is over (or
 * at `flush`, when the process stops). Alike: the same source and message, numbers aside.
 */
export class RepeatedWarnings {
  private readonly runs = new Map<string, { count: number; last: string; timer: NodeJS.Timeout }>();

  constructor(
    private readonly summarize: (summary: { repeated: number; last: string; withinMs: number }) => void,
    private readonly intervalMs = 60_000,
  ) {}

  /** Whether this warning is to be logged now (the first of its kind in the interval), or only counted. */
  admit(source: string, message: string): boolean {
    const key = `${source}\0${message.replace(/\d+/g, '#')}`;
    const run = this.runs.get(key);
    if (run) {
      run.count += 1;
      run.last = message;
      return false;
    }
    const timer = setTimeout(() => this.close(key), this.intervalMs).unref();
    this.runs.set(key, { count: 0, last: message, timer });
    return true;
  }

  /** Logs the counts of every open run now. */
  flush(): void {
    for (const key of [...this.runs.keys()]) this.close(key);
  }

  private close(key: string): void {
    const run = this.runs.get(key);
    if (!run) return;
    clearTimeout(run.timer);
    this.runs.delete(key);
    if (run.count > 0) this.summarize({ repeated: run.count, last: run.last, withinMs: this.intervalMs });
  }
}
