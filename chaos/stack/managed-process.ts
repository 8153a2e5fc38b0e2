/**
 * One server or service process of the campaign, restartable on the same ports and data: the faults
 * kill it (-9), pause it (SIGSTOP) and start it again. A process that exits when nobody killed it has
 * crashed: the crash is recorded (with the tail of its log) and, like a supervisor would, it is
 * started again.
 */
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import type { Resources } from '../../scripts/lib/resources';
import { isPortOpen } from '../../scripts/lib/servers';
import { stopChild } from '../../scripts/lib/servers';
import { errorText, log, sleep } from '../log';

export interface Crash {
  process: string;
  at: number;
  exit: string;
  /** It exited before it ever served: a start-up that failed (expected while a dependency is down). */
  atStartUp: boolean;
  /** The last lines of its log, where it has one. */
  logTail: string[];
}

export interface ProcessSpec {
  name: string;
  spawn(): ChildProcess;
  /** The port it serves on once it is up (the worker: its health port, opened last). */
  port: number;
  /** Its output (the API and the worker), for a crash's report. */
  logFile?: string;
}

const READY_TIMEOUT_MS = 120_000;
const MAX_CRASHES = 25;

export class ManagedProcess {
  private child: ChildProcess | undefined;
  private expectedExit = false;
  private stopped = false;
  private paused = false;
  /** Where this instance's output begins in the log file. */
  private logOffset = 0;
  /** Whether this instance has served on its port yet. */
  private served = false;
  readonly crashes: Crash[] = [];

  constructor(
    private readonly spec: ProcessSpec,
    /** The run: whether it is stopping (then an exit is no crash), and how to stop it when this process cannot go on. */
    private readonly run: Pick<Resources, 'stopping' | 'abort'>,
  ) {}

  get name(): string {
    return this.spec.name;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts it (if it is not running) and waits until it serves. */
  async start(): Promise<void> {
    if (!this.isRunning()) this.spawn();
    await this.ready();
  }

  async ready(): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (!(this.isRunning() && (await isPortOpen(this.spec.port)))) {
      if (Date.now() > deadline) throw new Error(`${this.name} did not serve on port ${this.spec.port} in time`);
      if (this.stopped) throw new Error(`${this.name} was stopped`);
      await sleep(100);
    }
  }

  /** kill -9, and wait until it is gone. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || !this.isRunning()) return;
    this.expectedExit = true;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
    this.paused = false;
  }

  pause(): void {
    if (this.isRunning()) this.child!.kill('SIGSTOP');
    this.paused = true;
  }

  resume(): void {
    if (this.isRunning()) this.child!.kill('SIGCONT');
    this.paused = false;
  }

  /** The final stop: SIGTERM (after SIGCONT, if paused), as production stops it. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (!this.child) return;
    if (this.paused) this.resume();
    this.expectedExit = true;
    await stopChild(this.child);
  }

  private isRunning(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  private spawn(): void {
    this.logOffset = this.spec.logFile && fs.existsSync(this.spec.logFile) ? fs.statSync(this.spec.logFile).size : 0;
    const child = this.spec.spawn();
    this.child = child;
    this.expectedExit = false;
    this.served = false;
    child.once('exit', (code, signal) => {
      if (this.child !== child || this.expectedExit || this.stopped || this.run.stopping) return;
      this.crashed(signal ?? `code ${code}`);
    });
    void this.watchServing(child);
  }

  private async watchServing(child: ChildProcess): Promise<void> {
    while (this.child === child && this.isRunning() && !this.served) {
      if (await isPortOpen(this.spec.port)) this.served = this.child === child;
      else await sleep(200);
    }
  }

  private crashed(exit: string): void {
    const crash = { process: this.name, at: Date.now(), exit, atStartUp: !this.served, logTail: this.logTail() };
    this.crashes.push(crash);
    log(`CRASH: ${this.name} exited by itself (${exit}); starting it again`);
    if (this.crashes.length > MAX_CRASHES) {
      this.run.abort(`${this.name} crashed ${this.crashes.length} times`);
      return;
    }
    void sleep(1000).then(() => {
      if (!this.stopped && !this.run.stopping && !this.isRunning()) {
        try {
          this.spawn();
        } catch (err) {
          this.run.abort(`${this.name} could not be started again: ${errorText(err)}`);
        }
      }
    });
  }

  private logTail(): string[] {
    if (!this.spec.logFile) return [];
    try {
      const output = fs.readFileSync(this.spec.logFile).subarray(this.logOffset).toString('utf8');
      return output.trimEnd().split('\n').slice(-12);
    } catch {
      return [];
    }
  }
}
