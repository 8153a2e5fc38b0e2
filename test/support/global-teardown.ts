import fs from 'node:fs';

export default async function globalTeardown(): Promise<void> {
  const servers = globalThis.__TEST_SERVERS__;
  await Promise.all([servers?.temporal?.stop(), servers?.postgres?.stop()]);
  if (servers?.pgDir) fs.rmSync(servers.pgDir, { recursive: true, force: true });
}
