/**
 * The bench reads its processes from /proc, in timers too: a process that exits between two reads
 * must give NaN, not throw (a throw in a timer once ended bench:scale with its cluster left running).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { cpuSeconds, rssMb } from '../../bench/processes';

test('when a process has exited, then its CPU time and memory read as NaN instead of throwing', async () => {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore' });
  try {
    await once(child, 'spawn');
    expect(cpuSeconds(child.pid)).toBeGreaterThanOrEqual(0);
    expect(rssMb(child.pid)).toBeGreaterThan(0);
  } finally {
    child.kill('SIGKILL');
  }
  await once(child, 'exit');

  expect(cpuSeconds(child.pid)).toBeNaN();
  expect(rssMb(child.pid)).toBeNaN();
  expect(cpuSeconds(undefined)).toBeNaN();
});
