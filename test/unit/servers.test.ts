/** The server helpers the tests and `npm run dev` start everything with. */
import net from 'node:net';
import { freePort, startTemporalDevServer, waitForPort } from '../../scripts/lib/servers';

test('when a server dies before it listens, then the error carries what it printed', async () => {
  const taken = net.createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  const port = (taken.address() as net.AddressInfo).port;
  const server = startTemporalDevServer({ port, uiPort: await freePort() });
  try {
    await expect(waitForPort(await freePort(), 'Temporal dev server', 60_000, server)).rejects.toThrow(
      /Temporal dev server exited with code 1; its last output:\n.*address already in use/s,
    );
  } finally {
    await server.stop();
    taken.close();
  }
});
