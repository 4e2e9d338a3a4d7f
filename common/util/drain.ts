// Waits for a writable to drain or close. Plain listeners, removed when done: a long transfer
// waits thousands of times on the same stream (an AbortController each time showed in profiles).

import type { Writable } from 'node:stream';

/** Bytes a receiver (HTTP response, file) may hold buffered before it waits to drain. */
export const SINK_BUFFER_BYTES = 1024 * 1024;

/** Resolves true when drained, false when the stream closed or failed first. */
export function drained(stream: Writable): Promise<boolean> {
  if (stream.destroyed) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (v: boolean) => {
      stream.off('drain', onDrain);
      stream.off('close', onEnd);
      stream.off('error', onEnd);
      resolve(v);
    };
    const onDrain = () => done(true);
    const onEnd = () => done(false);
    stream.on('drain', onDrain);
    stream.on('close', onEnd);
    stream.on('error', onEnd);
  });
}
