/**
 * The databases of the full Temporal server (scripts/lib/temporal-cluster.ts) in PostgreSQL: their
 * schemas, made with the server's SQL tool, and what a start needs to know or clean up there.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { isPortOpen } from './servers';
import { TEMPORAL_SERVER_HOME, temporalServerTool, type PostgresEndpoint } from './temporal-cluster-config';

const DATABASES = [
  { name: 'temporal', schema: 'temporal' },
  { name: 'temporal_visibility', schema: 'visibility' },
] as const;

/**
 * Creates the databases `temporal` and `temporal_visibility` when missing, their schema-version tables
 * when missing, and brings both schemas to the server's version: on a database that is already there
 * and up to date, this only checks.
 */
export async function ensureTemporalSchema(pg: PostgresEndpoint): Promise<void> {
  const sqlTool = temporalServerTool('temporal-sql-tool');
  const run = async (db: string, ...args: string[]) => {
    const connection = ['--plugin', 'postgres12', '--ep', pg.host, '-p', String(pg.port), '-u', pg.user];
    try {
      await promisify(execFile)(sqlTool, [...connection, '--pw', pg.password, '--db', db, ...args]);
    } catch (err) {
      const { stdout = '', stderr = '' } = err as { stdout?: string; stderr?: string };
      throw new Error(`temporal-sql-tool ${args[0]} on ${db} failed:\n${`${stdout}\n${stderr}`.trim()}`);
    }
  };
  const query = (database: string, sql: string, values: unknown[]) =>
    withDatabase(pg, database, async (client) => (await client.query(sql, values)).rowCount ?? 0);
  for (const db of DATABASES) {
    if ((await query('postgres', 'SELECT 1 FROM pg_database WHERE datname = $1', [db.name])) === 0) {
      await run(db.name, 'create-database');
    }
    if ((await query(db.name, "SELECT 1 WHERE to_regclass('schema_version') IS NOT NULL", [])) === 0) {
      await run(db.name, 'setup-schema', '-v', '0.0');
    }
    await run(
      db.name,
      'update-schema',
      '-d',
      path.join(TEMPORAL_SERVER_HOME, 'schema', 'postgresql', 'v12', db.schema, 'versioned'),
    );
  }
}

async function withDatabase<T>(pg: PostgresEndpoint, database: string, fn: (client: Client) => Promise<T>) {
  const client = new Client({ ...pg, database });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * Each service starts by joining the members that heartbeated into cluster_membership in the last
 * 20 s: a cluster stopped just before leaves rows that make the next start wait 30 s and more for
 * members that never answer. This removes the rows of the services that are gone (nothing listens
 * on their port), and refuses to start a second cluster on databases that one still runs on.
 */
export async function pruneDeadMembers(pg: PostgresEndpoint): Promise<void> {
  await withDatabase(pg, 'temporal', async (client) => {
    const { rows } = await client.query<{ host_id: Buffer; rpc_address: string; rpc_port: number; recent: boolean }>(
      `SELECT host_id, rpc_address, rpc_port,
              last_heartbeat > now() AT TIME ZONE 'UTC' - interval '20 seconds' AS recent FROM cluster_membership`,
    );
    for (const { host_id, rpc_address, rpc_port, recent } of rows) {
      if (!(await isPortOpen(rpc_port, rpc_address))) {
        await client.query('DELETE FROM cluster_membership WHERE host_id = $1', [host_id]);
      } else if (recent) {
        throw new Error(`a Temporal cluster already runs on these databases (a member at ${rpc_address}:${rpc_port})`);
      }
    }
  });
}

/** Whether a server has started on these databases: each service writes the cluster's metadata when it is not there. */
export const clusterMetadataWritten = (pg: PostgresEndpoint): Promise<boolean> =>
  withDatabase(
    pg,
    'temporal',
    async (client) => ((await client.query('SELECT 1 FROM cluster_metadata_info')).rowCount ?? 0) > 0,
  );
