// An HTTP answer's body read to its end only while it stays small: past `max` bytes the stream is
// destroyed (and with it the connection), so a peer cannot make the reader buffer what it sends.

import type { Readable } from 'node:stream';

/** The body when it ends within `max` bytes; otherwise its first `max` bytes and `over: true`, the stream destroyed. */
export async function readCapped(body: Readable, max: number): Promise<{ body: Buffer; over: boolean }> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    if (size + chunk.length > max) {
      parts.push(chunk.subarray(0, max - size));
      body.destroy();
      return { body: Buffer.concat(parts), over: true };
    }
    size += chunk.length;
    parts.push(chunk);
  }
  return { body: Buffer.concat(parts), over: false };
}
