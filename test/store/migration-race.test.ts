/**
 * Processes that start together on a fresh database (a supervisor or compose starts the API and the
 * worker at once, and each migrates at start) must migrate it once, and none may fail. SQLite is
 * shared by separate OS processes, so these are real child processes, released at the same moment;
 * the same processes then race on fresh PostgreSQL databases. Before the migration lock, SQLite
 * failed in the first round (`table "tickets" already exists`, then `database is locked` from the
 * switch to WAL); PostgreSQL held, kysely's lock covering the migration itself, and must go on holding.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import type { Config } from '../../src/config';
import { track } from '../../scripts/lib/process-registry';
import { ROOT, stopChild } from '../../scripts/lib/servers';
import { migrationProvider } from '../../src/store/migrations';
import { emptyPostgresDatabase } from '../support/database';

const PROCESSES = 8;
// MIGRATION_RACE_ROUNDS=100 for a longer soak; 6 rounds failed every time before the fix.
const ROUNDS = Number(process.env.MIGRATION_RACE_ROUNDS ?? 6);

interface Opener {
  child: ChildProcess;
  next(): Promise<string>;
}

let openers: Opener[] = [];

beforeAll(async () => {
  openers = Array.from({ length: PROCESSES }, () => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, '../support/store-opener.ts')], {
      cwd: ROOT,
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    track(child, 'store-opener');
    const lines = readline.createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    return {
      child,
      next: async () => {
        const { value, done } = await lines.next();
        if (done) throw new Error(`store opener ${child.pid} exited`);
        return value as string;
      },
    };
  });
  // Each has loaded the store's modules: what remains is the open itself, as close together as it gets.
  for (const line of await Promise.all(openers.map((o) => o.next()))) expect(line).toBe('ready');
});

afterAll(async () => {
  await Promise.all(openers.map((o) => stopChild(o.child)));
});

/** Sends every process the same database at once; their answers, in order. */
async function openAllAtOnce(
  database: Config['database'],
): Promise<Array<{ ok: boolean; applied?: string[]; error?: string }>> {
  for (const o of openers) o.child.stdin!.write(`${JSON.stringify(database)}\n`);
  return (await Promise.all(openers.map((o) => o.next()))).map((line) => JSON.parse(line));
}

async function expectMigratedOnce(answers: Awaited<ReturnType<typeof openAllAtOnce>>): Promise<void> {
  const all = Object.keys(await migrationProvider('sqlite').getMigrations()).sort();
  expect(answers.filter((a) => !a.ok)).toEqual([]);
  // Every migration applied once in all, by one of them: never twice, never half.
  expect(answers.flatMap((a) => a.applied)).toEqual(all);
}

test(`when ${PROCESSES} processes open the same fresh SQLite file at once, then it is migrated once and all of them start (${ROUNDS} rounds)`, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orders-migrate-'));
  try {
    for (let round = 0; round < ROUNDS; round++) {
      await expectMigratedOnce(await openAllAtOnce({ kind: 'sqlite', file: path.join(dir, `round-${round}.sqlite`) }));
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test(`when ${PROCESSES} processes open the same fresh PostgreSQL database at once, then it is migrated once and all of them start (${ROUNDS} rounds)`, async () => {
  for (let round = 0; round < ROUNDS; round++) {
    const { config, drop } = await emptyPostgresDatabase();
    try {
      await expectMigratedOnce(await openAllAtOnce(config));
    } finally {
      await drop();
    }
  }
});
