import { NativeConnection } from '@temporalio/worker';
import type { TemporalConfig } from '../config';

/**
 * The process's one Temporal connection (native, Rust core): the dev server in plain gRPC, or a
 * Temporal cluster / Temporal Cloud with mTLS or an API key, as config/temporal.ts read them. A failure says
 * where it tried to connect and how, since the SDK's own message ("transport error") names neither.
 */
export async function connectTemporal(temporal: TemporalConfig): Promise<NativeConnection> {
  try {
    return await NativeConnection.connect(temporal.connection);
  } catch (err) {
    throw new Error(
      `Could not connect to Temporal at ${temporal.description}: ${(err as Error).message}. ` +
        'Check TEMPORAL_ADDRESS and the TEMPORAL_TLS_* / TEMPORAL_API_KEY settings or the profile (docs/configuration.md).',
      { cause: err },
    );
  }
}
