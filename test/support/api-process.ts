import { spawn, type ChildProcess } from 'node:child_process';
import { track } from '../../scripts/lib/process-registry';
import { ROOT } from '../../scripts/lib/servers';
import { TEST_JWT_KEY } from './auth';

/**
 * The API as deployed: its own process (its main, Node's own module loader), run from source
 * through tsx, with `env` over the test's. Registered with the run, so that it is stopped even if
 * its test is not. `output`: 'pipe' to read what it writes, 'quiet' for stderr only.
 */
export function spawnApiProcess(env: NodeJS.ProcessEnv, output: 'pipe' | 'quiet' = 'quiet'): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/api/server.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      JWT_KEY: TEST_JWT_KEY,
      ...env,
      // On Node 26, tsx's loader (the test's way to run the source, not production's) prints a
      // DEP0205 deprecation warning of Node's own: not a line the API writes.
      NODE_OPTIONS: [process.env.NODE_OPTIONS, '--no-deprecation'].filter(Boolean).join(' '),
    },
    stdio: output === 'pipe' ? ['ignore', 'pipe', 'pipe'] : ['ignore', 'ignore', 'inherit'],
  });
  track(child, 'orders-api');
  return child;
}
