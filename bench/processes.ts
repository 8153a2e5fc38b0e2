/** What the bench reads of its processes from Linux's /proc: CPU time and memory, and their nice value. */
import fs from 'node:fs';
import os from 'node:os';

/** A process and its children. */
function processTree(pid: number): number[] {
  const children = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
  return [pid, ...children.map(Number)];
}

/** CPU seconds used so far by a process and its children. */
export function cpuSeconds(pid: number | undefined): number {
  if (!pid) return NaN;
  return processTree(pid).reduce((sum, p) => {
    const fields = fs.readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return sum + (Number(fields[11]) + Number(fields[12])) / 100;
  }, 0);
}

/** Resident memory of the largest process in the tree, in MB (NaN when there is no process). */
export function rssMb(pid: number | undefined): number {
  if (!pid) return NaN;
  const rss = processTree(pid).map((p) =>
    Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0),
  );
  return Math.max(...rss) / 1024;
}

/** Sets the nice value of every thread of every process in the trees. */
export function renice(pids: Array<number | undefined>, nice: number): void {
  // Linux sets a nice value per thread: every thread of every process (libuv's, the Rust core's)
  for (const root of pids)
    for (const pid of processTree(root!))
      for (const tid of fs.readdirSync(`/proc/${pid}/task`)) os.setPriority(Number(tid), nice);
}
