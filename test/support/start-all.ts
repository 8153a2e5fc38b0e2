/**
 * Starts things at once, as Promise.all does, but if one fails it waits for the others and stops
 * those that did start (each with its `stop`) before it throws the failure: with Promise.all, what
 * had started beside a failed start was never stopped, since nobody held it yet.
 */
export async function startAll<T extends readonly unknown[]>(starts: {
  readonly [K in keyof T]: readonly [Promise<T[K]>, (started: T[K]) => unknown];
}): Promise<T> {
  const settled = await Promise.allSettled(starts.map(([start]) => start));
  const failed = settled.find((s) => s.status === 'rejected');
  if (!failed) return settled.map((s) => (s as PromiseFulfilledResult<unknown>).value) as unknown as T;
  await Promise.allSettled(settled.map((s, i) => (s.status === 'fulfilled' ? starts[i]![1](s.value) : undefined)));
  throw failed.reason;
}
