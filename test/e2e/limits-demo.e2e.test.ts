/**
 * Issue 10's "done when", as a new user would try it: `npm run demo:limits` against the whole
 * system on real servers (Temporal dev server, nats-server, SQLite), with the limits a deployment
 * would set. The demo exits 1 at the first guard that does not hold, printing what it saw.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { track } from '../../scripts/lib/process-registry';
import { ROOT, stopChild } from '../../scripts/lib/servers';
import { TEST_JWT_KEY } from '../support/auth';
import { startSystem, type TestSystem } from '../support/system';

let system: TestSystem;

beforeAll(async () => {
  system = await startSystem({
    database: 'sqlite',
    expirationSeconds: 900,
    env: {
      MAX_ACTIVE_ORDERS_PER_USER: '10',
      RATE_LIMIT_PER_MINUTE: '60',
      RATE_LIMIT_PER_IP_PER_MINUTE: '0',
      MAX_HOLD_EXTENSIONS: '1', // opt-in: the demo extends a hold
    },
  });
});

afterAll(async () => {
  await system?.stop();
});

test('when a user retries, hoards, extends and bursts, then each guard answers as documented', async () => {
  const child = spawn(path.join(ROOT, 'node_modules', '.bin', 'tsx'), [path.join(ROOT, 'scripts', 'demo-limits.ts')], {
    env: {
      ...process.env,
      API_URL: `http://127.0.0.1:${system.api.port}`,
      NATS_URL: system.nats.url,
      TEMPORAL_ADDRESS: process.env.TEST_TEMPORAL_ADDRESS,
      JWT_KEY: TEST_JWT_KEY,
      NO_COLOR: '1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  track(child, 'demo-limits');
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  try {
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(`exit ${code}\n${output}`).toMatch(/^exit 0\n/);
  } finally {
    await stopChild(child);
  }
  expect(output).toMatch(/the retry says Idempotent-Replayed: true/);
  expect(output).toMatch(/hold 11 refused: 429/);
  expect(output).toMatch(/timer: fires at/);
  expect(output).toMatch(/429 .*Retry-After: \d+/);
});
