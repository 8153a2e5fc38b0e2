import fs from 'node:fs';
import { describeProcesses, endRun } from '../../scripts/lib/process-registry';

export default async function globalTeardown(): Promise<void> {
  const servers = globalThis.__TEST_SERVERS__;
  await Promise.all([servers?.temporal?.stop(), servers?.postgres?.stop()]);
  if (servers?.pgDir) fs.rmSync(servers.pgDir, { recursive: true, force: true });
  // What is still registered was left running by a test file, or by a jest worker that died.
  const left = await endRun();
  if (left.length) console.warn(`The global teardown stopped what the tests left running:\n${describeProcesses(left)}`);
}
