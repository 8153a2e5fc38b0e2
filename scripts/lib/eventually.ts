/**
 * Polls `probe` until it returns a value that is not undefined (no fixed sleeps): for tests, the
 * demo and the bench alike, which all wait for a state that arrives through NATS or Temporal.
 * A probe that throws counts as "not yet"; its last error is in the timeout's message.
 */
export async function eventually<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
