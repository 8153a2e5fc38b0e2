/** What the bench reads of its processes from Linux's /proc: CPU time and memory, and their nice value. */
import fs from 'node:fs';
import os from 'node:os';

/**
 * A file of /proc, or undefined once its process is gone: a process may exit between two reads (a
 * cluster's replica restarting, a child that ended), and a read from a timer must not throw for it.
 */
function readProc(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ESRCH')
      return undefined;
    throw err;
  }
}

/** A process and its children (none once it is gone). */
function processTree(pid: number): number[] {
  const children = readProc(`/proc/${pid}/task/${pid}/children`);
  if (children === undefined) return [];
  return [pid, ...children.trim().split(/\s+/).filter(Boolean).map(Number)];
}

/** CPU seconds used so far by a process and its children (NaN when the process is gone). */
export function cpuSeconds(pid: number | undefined): number {
  const tree = pid ? processTree(pid) : [];
  if (tree.length === 0) return NaN;
  return tree.reduce((sum, p) => {
    const fields = readProc(`/proc/${p}/stat`)?.split(') ')[1]?.split(' ');
    return fields ? sum + (Number(fields[11]) + Number(fields[12])) / 100 : sum;
  }, 0);
}

/** Resident memory of the largest process in the tree, in MB (NaN when there is no process). */
export function rssMb(pid: number | undefined): number {
  const tree = pid ? processTree(pid) : [];
  if (tree.length === 0) return NaN;
  const rss = tree.map((p) => Number(/VmRSS:\s+(\d+)/.exec(readProc(`/proc/${p}/status`) ?? '')?.[1] ?? 0));
  return Math.max(...rss) / 1024;
}

/** Sets the nice value of every thread of every process in the trees. */
export function renice(pids: Array<number | undefined>, nice: number): void {
  // Linux sets a nice value per thread: every thread of every process (libuv's, the Rust core's)
  for (const root of pids)
    for (const pid of processTree(root!))
      for (const tid of fs.readdirSync(`/proc/${pid}/task`)) os.setPriority(Number(tid), nice);
}
