import type { Server } from 'node:http';
import express, { Router } from 'express';
import { sql } from 'kysely';
import { registry } from './metrics';
import type { Db } from './store/schema';

export type Check = () => Promise<unknown>;

/**
 * Liveness (`/healthz`: the process answers), readiness (`/readyz`: its dependencies answer)
 * and Prometheus metrics (`/metrics`).
 */
export function healthRoutes(checks: Record<string, Check>): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/metrics', async (_req, res) => {
    res.type(registry.contentType).send(await registry.metrics());
  });
  router.get('/readyz', async (_req, res) => {
    const results = await Promise.all(
      Object.entries(checks).map(async ([name, check]) => {
        try {
          await withTimeout(check(), 2000);
          return [name, 'ok'] as const;
        } catch (err) {
          return [name, `failing: ${(err as Error).message}`] as const;
        }
      }),
    );
    const ready = results.every(([, r]) => r === 'ok');
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', checks: Object.fromEntries(results) });
  });
  return router;
}

export const databaseCheck =
  (db: Db): Check =>
  () =>
    sql`select 1`.execute(db);

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** A process without an API (the worker) serves its health routes on their own port; 0 means none. */
export async function listenHealth(
  port: number,
  checks: Record<string, Check>,
): Promise<{ server: Server; port: number } | undefined> {
  if (port === 0) return undefined;
  const app = express().use(healthRoutes(checks));
  return new Promise((resolve, reject) => {
    const server = app.listen(port, () => resolve({ server, port })).on('error', reject);
  });
}
