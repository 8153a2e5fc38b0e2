import fs from 'node:fs';
import type { TLSConfig } from '@temporalio/client';
import type { Config } from '../config';

/**
 * Connection options shared by the client (API, event listeners) and the worker: the dev server
 * in plain gRPC, or a Temporal cluster / Temporal Cloud with mTLS client certificates or an API key.
 */
export function temporalConnectionOptions(temporal: Config['temporal']): {
  address: string;
  tls?: TLSConfig | boolean;
  apiKey?: string;
} {
  const { address, apiKey, tls } = temporal;
  if (!tls) return { address };
  const read = (file: string | undefined) => (file ? fs.readFileSync(file) : undefined);
  const cert = read(tls.certPath);
  const key = read(tls.keyPath);
  const tlsConfig: TLSConfig = {
    ...(tls.serverName ? { serverNameOverride: tls.serverName } : {}),
    ...(tls.caPath ? { serverRootCACertificate: read(tls.caPath) } : {}),
    ...(cert && key ? { clientCertPair: { crt: cert, key } } : {}),
  };
  return { address, tls: Object.keys(tlsConfig).length > 0 ? tlsConfig : true, ...(apiKey ? { apiKey } : {}) };
}
