// Polling with a deadline, for tests, the soak and the benchmarks.

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Thrown from a waitFor check to stop waiting at once (a process died). */
export class Fatal extends Error {}

/** Polls `check` until it returns a truthy value; throws after `ms`, or at once on Fatal. */
export async function waitFor<T>(check: () => T | Promise<T>, ms = 10_000, what = 'condition', everyMs = 50): Promise<NonNullable<T>> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      if (err instanceof Fatal) throw err;
      last = err;
    }
    if (Date.now() > end) throw new Error(`waited ${ms} ms for ${what}${last ? `: ${String(last)}` : ''}`);
    await sleep(everyMs);
  }
}
