/**
 * A separate process that opens the store as the API and the worker do at start-up (openStore,
 * which migrates) each time it reads a database config (one JSON line) on stdin, and answers with
 * one JSON line: the migrations it applied itself, or its error. It exits when stdin closes.
 * test/store/migration-race.test.ts starts several and sends them the same fresh database at once.
 */
import readline from 'node:readline';
import type { Config } from '../../src/config';
import { openStore } from '../../src/store';
import { capturingLogger } from './logs';

process.stdout.write('ready\n');
readline.createInterface({ input: process.stdin }).on('line', (line) => {
  void (async () => {
    // openStore logs what it applied ('database migrated'); nothing else of this process logs.
    const { logger, lines } = capturingLogger();
    try {
      const store = await openStore(JSON.parse(line) as Config['database'], logger);
      await store.close();
      const applied = lines.flatMap((l) => (l.applied as string[] | undefined) ?? []);
      process.stdout.write(`${JSON.stringify({ ok: true, applied })}\n`);
    } catch (err) {
      process.stdout.write(`${JSON.stringify({ ok: false, error: String(err), stack: (err as Error).stack })}\n`);
    }
  })();
});
