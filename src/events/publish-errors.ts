/**
 * Whether NATS refused this one message for good, so that retrying it can only fail again:
 * - the client would not send it: a header it cannot carry (CR/LF), a payload over the
 *   server's max_payload, a subject or payload it rejects;
 * - the stream answered 400 for this message (for example larger than its max_msg_size).
 * Everything else is about the bus, not the message (no responders, timeouts, a connection that
 * is closed, draining or reconnecting, JetStream unavailable, permissions): transient. Setting
 * those aside would set aside every event of an outage; they are retried with back-off instead.
 */
export function refusedForGood(err: unknown): boolean {
  const e = err as { code?: unknown; api_error?: { code?: number } } | undefined;
  if (e?.api_error) return e.api_error.code === 400;
  return typeof e?.code === 'string' && REFUSED_BY_CLIENT.has(e.code);
}

// nats.js's ErrorCode values for a message it will not send whatever the state of the connection.
const REFUSED_BY_CLIENT = new Set([
  'BAD_HEADER',
  'MAX_PAYLOAD_EXCEEDED',
  'BAD_PAYLOAD',
  'INVALID_PAYLOAD',
  'BAD_SUBJECT',
]);

/** NATS's reason, as the outbox keeps it and an operator reads it. */
export function describeRefusal(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown; api_error?: { err_code?: number; description?: string } };
  const api = e.api_error ? ` (JetStream ${e.api_error.err_code}: ${e.api_error.description})` : '';
  return `${String(e.code)}: ${String(e.message)}${api}`.slice(0, 1000);
}
