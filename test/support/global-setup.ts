/**
 * One Temporal dev server (in memory, free ports, with the service's search attributes) for the
 * whole run; the end-to-end and browser tests find it through TEST_TEMPORAL_* variables.
 * Tests that need NATS or a database start their own, so files never share state.
 */
import { freePort, startTemporalDevServer, waitForPort, type ServerProcess } from '../../scripts/lib/servers';

declare global {
  var __TEMPORAL_DEV_SERVER__: ServerProcess | undefined;
}

export default async function globalSetup(): Promise<void> {
  const port = await freePort();
  const uiPort = await freePort();
  const server = startTemporalDevServer({ port, uiPort });
  globalThis.__TEMPORAL_DEV_SERVER__ = server;
  await waitForPort(port, 'Temporal dev server', 60_000, server);
  await waitForPort(uiPort, 'Temporal Web UI', 60_000, server);
  process.env.TEST_TEMPORAL_ADDRESS = `127.0.0.1:${port}`;
  process.env.TEST_TEMPORAL_UI_URL = `http://127.0.0.1:${uiPort}`;
}
