/**
 * A worker process whose Temporal worker fails for good exits, non-zero, saying so, so that its
 * supervisor starts it afresh. Before, `worker.run()` was never watched: the process went on,
 * answering its health checks, with nothing polling for its workflows and activities.
 * The worker runs as its own process (as deployed) and reaches the run's dev server through a
 * proxy; the test then puts in its place a server that refuses every call as unauthenticated (as
 * Temporal Cloud does once an API key is revoked). The SDK's core retries refused polls for about
 * a minute before it gives up, so this test takes that long.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { eventually } from '../../scripts/lib/eventually';
import { track } from '../../scripts/lib/process-registry';
import { freePort, ROOT, stopChild } from '../../scripts/lib/servers';
import { TEST_JWT_KEY } from '../support/auth';
import { startTestNats, type TestNats } from '../support/nats';
import { newId } from '../support/orders';
import { startTcpProxy, type TcpProxy } from '../../scripts/lib/tcp-proxy';

let nats: TestNats;
let proxy: TcpProxy;
let refuser: http2.Http2Server;
let dataDir: string;
let worker: ChildProcess | undefined;
let output = '';

beforeAll(async () => {
  const [host, port] = process.env.TEST_TEMPORAL_ADDRESS!.split(':');
  nats = await startTestNats();
  proxy = await startTcpProxy({ host: host!, port: Number(port) });
  refuser = http2.createServer();
  refuser.on('stream', (stream) =>
    stream.respond(
      { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '16', 'grpc-message': 'API key revoked' },
      { endStream: true },
    ),
  );
  await new Promise<void>((resolve) => refuser.listen(0, '127.0.0.1', resolve));
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'orders-worker-failure-'));
});

afterAll(async () => {
  if (process.env.TEST_LOG_LEVEL) console.log(output); // what the worker wrote, to read
  if (worker) await stopChild(worker);
  await new Promise((resolve) => refuser?.close(resolve));
  await proxy?.close();
  await nats?.stop();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

const logLines = () =>
  output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

test('when the Temporal worker fails for good, then the worker process logs it as fatal and exits with 1', async () => {
  const healthPort = await freePort();
  worker = spawn(process.execPath, ['--import', 'tsx', 'src/worker.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      JWT_KEY: TEST_JWT_KEY,
      NATS_URL: nats.url,
      TEMPORAL_ADDRESS: `127.0.0.1:${proxy.port}`,
      TEMPORAL_TASK_QUEUE: `orders-failure-${newId()}`,
      WORKER_HEALTH_PORT: String(healthPort),
      DATA_DIR: dataDir,
      LOG_LEVEL: 'info',
      LOG_FORMAT: 'json',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  track(worker, 'orders-worker');
  worker.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  worker.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await eventually(async () => logLines().find((l) => l.msg === 'worker running'), 'the worker to start', 60_000);
  expect((await fetch(`http://127.0.0.1:${healthPort}/readyz`)).status).toBe(200);

  proxy.redirect({ host: '127.0.0.1', port: (refuser.address() as AddressInfo).port });

  const exitCode = await eventually(async () => worker!.exitCode ?? undefined, 'the worker process to exit', 120_000);
  expect(exitCode).toBe(1);
  expect(logLines().find((l) => l.level === 60)).toMatchObject({
    part: 'Temporal worker',
    msg: 'Temporal worker failed; exiting so that the process is started afresh',
  });
}, 240_000);
