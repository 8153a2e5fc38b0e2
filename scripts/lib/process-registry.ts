/**
 * The processes a jest run starts, written down so that none outlives the run, even a run that
 * fails half-way or is killed:
 * - the global setup makes the run's folder (`beginRun`) and names it in ORDERS_TEST_RUN_DIR, which
 *   the jest workers inherit;
 * - every server started through servers.ts (and any process handed to `track`) writes a file there
 *   with its pid, and removes it when it exits;
 * - the global teardown kills what is still registered (`endRun`) and says so: a test that did not
 *   stop its server, or a jest worker that died before it could;
 * - the global setup first reaps the runs whose jest process is gone (`reapAbandonedRuns`): a run
 *   that was killed outright, so that its own teardown never ran.
 * Outside jest (`npm run dev`, the bench) the variable is unset and registering does nothing.
 * On Linux a process is told from a later one with the same pid by its start time (/proc/PID/stat).
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const RUN_DIR_ENV = 'ORDERS_TEST_RUN_DIR';
/** Where each run's folder goes, named `<jest pid>-<its start time>`: one root per user, who can end only their own. */
export const RUNS_ROOT = path.join(os.tmpdir(), `orders-test-runs-${process.getuid?.() ?? 'user'}`);

export interface Registered {
  pid: number;
  name: string;
  /** Its start time, to tell it from a later process with the same pid (undefined without /proc). */
  started?: string;
  /** Its command line, for the report (empty without /proc). */
  command: string;
  /** The process that started it: a jest worker, or jest itself. */
  by: number;
  /** Folders to remove once it is gone (a server's data). */
  remove?: string[];
}

const hasProc = fs.existsSync('/proc/self/stat');

/** The fields of /proc/PID/stat this needs; undefined when there is no such process (or no /proc). */
function procStat(pid: number): { state: string; ppid: number; pgrp: number; started: string } | undefined {
  try {
    const text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // after "pid (comm) ": state ppid pgrp ... with the start time the 22nd field of the line
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0]!, ppid: Number(fields[1]), pgrp: Number(fields[2]), started: fields[19]! };
  } catch {
    return undefined;
  }
}

/** Whether the process is still the one registered, and not a zombie (which no signal can stop). */
export function isRunning(p: { pid: number; started?: string }): boolean {
  try {
    process.kill(p.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (!hasProc) return true;
  const stat = procStat(p.pid);
  return stat !== undefined && stat.state !== 'Z' && (p.started === undefined || stat.started === p.started);
}

/**
 * Registers a process with this run, if there is one (else does nothing); `remove` are folders to
 * remove once it is gone. Returns the function that unregisters it.
 */
export function register(pid: number, name: string, remove?: string[]): () => void {
  const dir = process.env[RUN_DIR_ENV];
  if (!dir) return () => {};
  const file = path.join(dir, `${pid}.json`);
  const entry: Registered = {
    pid,
    name,
    started: procStat(pid)?.started,
    command: commandLine(pid).slice(0, 300),
    by: process.pid,
    remove,
  };
  try {
    fs.writeFileSync(file, JSON.stringify(entry));
  } catch {
    return () => {}; // the run's folder is gone (its teardown ran): there is nothing left to register with
  }
  return () => fs.rmSync(file, { force: true });
}

/** Registers a child process with this run until it exits. */
export function track(child: ChildProcess, name: string): void {
  if (child.pid === undefined) return; // it did not start: `child` reports the error
  child.once('exit', register(child.pid, name));
}

/**
 * Registers the children of this process whose command line contains `match`: a server that a
 * library started without telling its pid (the Java test server of @temporalio/testing). Linux only.
 */
export function trackChildren(match: string, name: string): number[] {
  if (!process.env[RUN_DIR_ENV] || !hasProc) return [];
  const found = fs
    .readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .filter((pid) => procStat(pid)?.ppid === process.pid && commandLine(pid).includes(match));
  for (const pid of found) register(pid, name); // unregistered by nobody: a process that is gone is passed over
  return found;
}

function commandLine(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

/** Makes this run's folder (after reaping the runs that were killed) and names it in RUN_DIR_ENV for the workers. */
export async function beginRun(root = RUNS_ROOT): Promise<{ dir: string; reaped: Registered[] }> {
  ownRoot(root);
  const reaped = await reapAbandonedRuns(root);
  const dir = path.join(root, `${process.pid}-${procStat(process.pid)?.started ?? Date.now()}`);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  process.env[RUN_DIR_ENV] = dir;
  return { dir, reaped };
}

/**
 * The root is private to this user: the reaper signals the pids and removes the folders written in
 * it, so nobody else may write there (not another user's folder, nor a symlink to one).
 */
function ownRoot(root: string): void {
  fs.mkdirSync(root, { recursive: true, mode: 0o700 });
  const stat = fs.lstatSync(root);
  if (stat.isSymbolicLink() || !stat.isDirectory() || (process.getuid && stat.uid !== process.getuid())) {
    throw new Error(`${root} is not a folder of this user's: remove it, then run again`);
  }
  fs.chmodSync(root, 0o700);
}

/** Kills what is still registered with the run, removes its folder, and returns what was still running. */
export async function endRun(dir = process.env[RUN_DIR_ENV]): Promise<Registered[]> {
  if (!dir) return [];
  const left = await reap(readRun(dir));
  fs.rmSync(dir, { recursive: true, force: true });
  return left;
}

/** Ends every run under `root` whose jest process is gone; returns what they had left running. */
export async function reapAbandonedRuns(root = RUNS_ROOT): Promise<Registered[]> {
  let runs: string[];
  try {
    runs = fs.readdirSync(root);
  } catch {
    return [];
  }
  const reaped: Registered[] = [];
  // Without /proc a pid cannot be told from a later process that reuses it: report nothing, signal nothing.
  if (!hasProc) return reaped;
  for (const run of runs.filter((name) => /^\d+-/.test(name))) {
    const [pid, started] = run.split('-');
    if (isRunning({ pid: Number(pid), started })) continue; // a run going on
    reaped.push(...(await endRun(path.join(root, run))));
  }
  return reaped;
}

/** One line per process, for the report of the global setup or teardown. */
export const describeProcesses = (processes: Registered[]): string =>
  processes.map((p) => `${p.name} (pid ${p.pid}, started by pid ${p.by}): ${p.command}`).join('\n');

function readRun(dir: string): Registered[] {
  let files: string[];
  try {
    files = fs.readdirSync(dir).filter((f) => f.endsWith('.json'));
  } catch {
    return [];
  }
  return files.flatMap((f) => {
    try {
      return [JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as Registered];
    } catch {
      return []; // removed meanwhile, or half-written by a worker that was killed
    }
  });
}

/**
 * SIGTERM, then SIGKILL after `graceMs`, to each process that is still running: to its whole
 * process group where it leads one (a browser and its helpers), else to it alone. Then removes
 * their folders. Returns those that were still running.
 */
async function reap(entries: Registered[], graceMs = 5_000): Promise<Registered[]> {
  const running = entries.filter(isRunning);
  const signal = (p: Registered, name: NodeJS.Signals) => {
    try {
      process.kill(procStat(p.pid)?.pgrp === p.pid ? -p.pid : p.pid, name);
    } catch {
      // gone meanwhile
    }
  };
  const gone = async (until: number) => {
    while (running.some(isRunning) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  };
  running.forEach((p) => signal(p, 'SIGTERM'));
  await gone(Date.now() + graceMs);
  running.filter(isRunning).forEach((p) => signal(p, 'SIGKILL'));
  await gone(Date.now() + 2_000);
  // Only a server's own temporary folder, whatever a registry file says.
  const removable = (dir: string) => path.resolve(dir).startsWith(path.join(os.tmpdir(), 'orders-'));
  for (const p of entries)
    for (const dir of (p.remove ?? []).filter(removable)) fs.rmSync(dir, { recursive: true, force: true });
  return running;
}
