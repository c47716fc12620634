// Waiting for many requests without hanging the suite when one is lost: a lost
// completion shows up as a count in a failure message, not as a test timeout.

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

/**
 * Waits for every promise to settle, or for `timeoutMs` to pass, and then
 * throws naming how many never settled. Resolves with each outcome, in order.
 */
export async function settleAll<T>(promises: Array<Promise<T>>, timeoutMs = 30_000, what = 'requests'): Promise<Array<Outcome<T>>> {
  const outcomes = new Array<Outcome<T> | undefined>(promises.length);
  let settled = 0;
  const tracked = promises.map((promise, index) =>
    promise.then(
      (value) => {
        outcomes[index] = { ok: true, value };
        settled++;
      },
      (error: unknown) => {
        outcomes[index] = { ok: false, error };
        settled++;
      },
    ),
  );
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  try {
    const winner = await Promise.race([Promise.all(tracked), timeout]);
    if (winner === 'timeout') {
      throw new Error(`${promises.length - settled} of ${promises.length} ${what} never settled within ${timeoutMs} ms (lost completions)`);
    }
  } finally {
    clearTimeout(timer);
  }
  return outcomes as Array<Outcome<T>>;
}

/** Waits until the ring has nothing in flight: a request cancelled in flight holds its slot until its completion. */
export async function drained(ring: { stats(): { inflight: number } }): Promise<void> {
  while (ring.stats().inflight > 0) await new Promise((resolve) => setTimeout(resolve, 5));
}
