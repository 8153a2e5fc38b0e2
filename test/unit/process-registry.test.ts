/**
 * No server outlives a jest run (scripts/lib/process-registry.ts): what a test leaves running is
 * stopped by the global teardown (`endRun`), and what a run killed outright left by the next run's
 * global setup (`beginRun`). With real nats-servers, each in a run folder of its own, not this run's.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beginRun, endRun, isRunning, reapAbandonedRuns, RUN_DIR_ENV } from '../../scripts/lib/process-registry';
import { freePort, isPortOpen, startNatsServer, waitForPort } from '../../scripts/lib/servers';

const thisRun = process.env[RUN_DIR_ENV];
/** The servers' stores here, the run folders in `runs` (as RUNS_ROOT holds them). */
let root: string;
let runs: string;

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'orders-registry-'));
  runs = path.join(root, 'runs');
  fs.mkdirSync(runs);
});

afterEach(async () => {
  process.env[RUN_DIR_ENV] = thisRun;
  for (const run of fs.readdirSync(runs)) await endRun(path.join(runs, run)); // what a failed test left
  fs.rmSync(root, { recursive: true, force: true });
});

/** A nats-server started through servers.ts, as a test would, registered with the run in `runDir`. */
async function natsIn(runDir: string) {
  process.env[RUN_DIR_ENV] = runDir;
  const port = await freePort();
  const server = startNatsServer({ port, storeDir: fs.mkdtempSync(path.join(root, 'nats-')) });
  process.env[RUN_DIR_ENV] = thisRun;
  await waitForPort(port, 'nats-server', 20_000, server);
  /** Resolves when the server has exited (nats-server ends by itself on SIGTERM). */
  const exit = new Promise<string>((resolve) => server.child.once('exit', () => resolve('exited')));
  return { server, port, pid: server.child.pid!, exit };
}

const newRunDir = (name: string) => {
  const dir = path.join(runs, name);
  fs.mkdirSync(dir);
  return dir;
};

test('when a test leaves a server it started through servers.ts running, then the teardown kills it and names it', async () => {
  const run = newRunDir(`${process.pid}-run`);
  const nats = await natsIn(run);
  expect(fs.readdirSync(run)).toEqual([`${nats.pid}.json`]);

  const left = await endRun(run);

  expect(left).toEqual([expect.objectContaining({ pid: nats.pid, name: 'nats', by: process.pid })]);
  expect(left[0]!.command).toContain(`-p ${nats.port}`);
  expect(isRunning({ pid: nats.pid })).toBe(false);
  expect(await nats.exit).toBe('exited');
  expect(await isPortOpen(nats.port)).toBe(false);
  expect(fs.existsSync(run)).toBe(false);
});

test('when a test stops its server, then the server is no longer registered and the teardown has nothing to stop', async () => {
  const run = newRunDir(`${process.pid}-run`);
  const nats = await natsIn(run);
  await nats.server.stop();
  expect(fs.readdirSync(run)).toEqual([]);
  expect(await endRun(run)).toEqual([]);
});

test("when a run was killed outright, then the next run's setup kills what it left, and leaves a live run's servers alone", async () => {
  // a jest process that is gone: a process that has exited
  const gone = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => gone.once('exit', resolve));
  const killedRun = newRunDir(`${gone.pid}-1`);
  const orphan = await natsIn(killedRun);

  const { dir, reaped } = await beginRun(runs);

  expect(reaped).toEqual([expect.objectContaining({ pid: orphan.pid, name: 'nats' })]);
  expect(isRunning({ pid: orphan.pid })).toBe(false);
  expect(await orphan.exit).toBe('exited');
  expect(fs.existsSync(killedRun)).toBe(false);
  expect(process.env[RUN_DIR_ENV]).toBe(dir);

  // the new run (this process, alive) is not another run's to reap
  const live = await natsIn(dir);
  expect(await reapAbandonedRuns(runs)).toEqual([]);
  expect(isRunning({ pid: live.pid })).toBe(true);
  expect(await endRun(dir)).toEqual([expect.objectContaining({ pid: live.pid })]);
  expect(await live.exit).toBe('exited');
});
