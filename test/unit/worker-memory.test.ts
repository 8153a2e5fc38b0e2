/**
 * The worker's memory settings are one set (scripts/lib/service-processes.ts), which every way of
 * running it applies: the launchers through withWorkerMemory, docker-compose and Kubernetes in their
 * own files, checked here against it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { withWorkerMemory, WORKER_MEMORY_ENV } from '../../scripts/lib/service-processes';

const ROOT = path.join(__dirname, '..', '..');
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8');

test('when docker-compose runs the worker, then it sets the same memory settings', () => {
  const compose = parse(read('docker-compose.yml')) as {
    services: Record<string, { environment: Record<string, unknown> }>;
  };
  expect(compose.services['orders-worker']!.environment).toMatchObject(WORKER_MEMORY_ENV);
});

test('when Kubernetes runs the worker, then it sets the same memory settings', () => {
  type Container = { name: string; env?: Array<{ name: string; value?: string }> };
  type Manifest = { kind: string; spec?: { template?: { spec?: { containers?: Container[] } } } };
  const docs = parseAllDocuments(read('infra/k8s/orders-worker.yaml')).map((d) => d.toJS() as Manifest);
  const deployment = docs.find((d) => d.kind === 'Deployment')!;
  const container = deployment.spec!.template!.spec!.containers!.find((c) => c.name === 'orders-worker')!;
  const env = Object.fromEntries((container.env ?? []).map((e) => [e.name, e.value]));
  expect(env).toMatchObject(WORKER_MEMORY_ENV);
});

test('when a launcher already sets Node options, then the worker keeps them, with the memory settings after (which win)', () => {
  expect(withWorkerMemory({ NODE_OPTIONS: '--enable-source-maps', PORT: '1' })).toEqual({
    PORT: '1',
    MALLOC_ARENA_MAX: '2',
    NODE_OPTIONS: `--enable-source-maps ${WORKER_MEMORY_ENV.NODE_OPTIONS}`,
  });
  expect(withWorkerMemory({}).NODE_OPTIONS).toBe(WORKER_MEMORY_ENV.NODE_OPTIONS);
});
