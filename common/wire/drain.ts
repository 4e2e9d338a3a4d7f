// Waits for a writable to drain or close, without leaving listeners behind (a long transfer
// waits thousands of times on the same stream).

import { once } from 'node:events';
import type { Writable } from 'node:stream';

/** Resolves true when drained, false when the stream closed first. */
export async function drained(stream: Writable): Promise<boolean> {
  if (stream.destroyed) return false;
  const ac = new AbortController();
  try {
    const winner = await Promise.race([
      once(stream, 'drain', { signal: ac.signal }).then(() => true),
      once(stream, 'close', { signal: ac.signal }).then(() => false),
    ]);
    return winner;
  } catch {
    // an 'error' event (ECONNRESET...) or our own abort: either way the stream will not drain
    return false;
  } finally {
    ac.abort();
  }
}
