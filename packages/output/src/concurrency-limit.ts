/**
 * Runs at most `limit` of the given jobs at a time; the returned function queues one and
 * settles with its result.
 */
export function concurrencyLimit(limit: number): <T>(job: () => Promise<T>) => Promise<T> {
  const max = Math.max(1, Math.floor(limit));
  let running = 0;
  const waiting: (() => void)[] = [];
  // A finished job hands its slot straight to the next waiting one, so a job queued in
  // between cannot slip in and exceed the limit.
  const release = () => {
    const wake = waiting.shift();
    if (wake) wake();
    else running--;
  };
  return async <T>(job: () => Promise<T>): Promise<T> => {
    if (running >= max) await new Promise<void>((resolve) => waiting.push(resolve));
    else running++;
    try {
      return await job();
    } finally {
      release();
    }
  };
}
