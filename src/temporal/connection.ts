import fs from 'node:fs';
import type { TLSConfig } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { Config } from '../config';

/**
 * Connection options shared by the client (API, event listeners) and the worker: the dev server
 * in plain gRPC, or a Temporal cluster / Temporal Cloud with mTLS client certificates or an API key.
 */
function temporalConnectionOptions(temporal: Config['temporal']): {
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

/**
 * The process's one Temporal connection (native, Rust core). A failure says where it tried to
 * connect and how, since the SDK's own message ("transport error") names neither.
 */
export async function connectTemporal(temporal: Config['temporal']): Promise<NativeConnection> {
  try {
    return await NativeConnection.connect(temporalConnectionOptions(temporal));
  } catch (err) {
    const how = !temporal.tls
      ? 'plain gRPC (no TLS)'
      : [
          'TLS',
          temporal.tls.caPath ? `CA ${temporal.tls.caPath}` : 'system CAs',
          temporal.tls.certPath ? `client certificate ${temporal.tls.certPath}` : 'no client certificate',
          temporal.tls.serverName ? `server name ${temporal.tls.serverName}` : undefined,
          temporal.apiKey ? 'API key' : undefined,
        ]
          .filter(Boolean)
          .join(', ');
    throw new Error(
      `Could not connect to Temporal at ${temporal.address} over ${how}: ${(err as Error).message}. ` +
        'Check TEMPORAL_ADDRESS and the TEMPORAL_TLS_* / TEMPORAL_API_KEY settings (README, "Configuration").',
      { cause: err },
    );
  }
}
