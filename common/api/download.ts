// GET /api/agents/:agent/fetch?path=: a file from an agent, streamed as it arrives. Its sha256 (or
// the error that cut it) comes in the trailers, so the client can check what it wrote.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { SINK_BUFFER_BYTES, drained } from '../util/drain.ts';
import { HwError, toWireError } from '../errors.ts';
import type { Manager } from '../manager/manager.ts';

export async function download(manager: Manager, ref: string, path: string, req: IncomingMessage, res: ServerResponse, by: string): Promise<void> {
  // The sha256 (or the error) comes as a trailer, which needs chunked encoding: HTTP/1.1.
  if (req.httpVersionMajor < 1 || (req.httpVersionMajor === 1 && req.httpVersionMinor < 1)) {
    throw new HwError('BAD_ARGS', `fetch needs HTTP/1.1 (the file's sha256 comes as a trailer); this request is HTTP/${req.httpVersion}`);
  }
  const ac = new AbortController();
  res.on('close', () => { if (!res.writableFinished) ac.abort(); });
  try {
    const r = await manager.fetch(ref, path, {
      start(size, remotePath) {
        res.writeHead(200, {
          'content-type': 'application/octet-stream', 'x-content-type-options': 'nosniff', 'cache-control': 'no-store',
          'x-file-size': String(size), 'x-file-path': encodeURIComponent(remotePath),
          trailer: 'x-sha256, x-bytes, x-error-code, x-error-message',
        });
        res.flushHeaders();
      },
      async write(parts, bytes) {
        // Wait only when a few MiB are queued: waiting on every chunk's drain halves the speed.
        const out = writeChunk(res, parts, bytes);
        if (out.writableLength > SINK_BUFFER_BYTES && !(await drained(out))) {
          // The client closed its end (Ctrl-C): the receiver cancelled, as the abort says too
          // (the socket's close may be seen here before the response's).
          throw new HwError('CANCELLED', 'the transfer was cancelled by the receiver (the API client went away)');
        }
      },
    }, ac.signal, by);
    res.addTrailers({ 'x-sha256': r.sha256, 'x-bytes': String(r.bytes) });
    res.end();
  } catch (err) {
    if (!res.headersSent) throw err;
    const e = toWireError(err);
    res.addTrailers({ 'x-error-code': e.code, 'x-error-message': encodeURIComponent(e.message) });
    res.end();
  }
}

/**
 * Writes a data frame's slices as one HTTP chunk. res.write would frame each slice (16 KiB, a TLS
 * record) as a chunk of its own, and parsing four times as many chunk headers was a tenth of the
 * CLI's CPU; joining the slices would copy every byte. So on a chunked response the frame goes to
 * the socket with one chunk header, corked into one writev; Node's own end() then writes the last
 * chunk and the trailers after it, in order on the same socket. Anything else (an HTTP/1.0 client,
 * no chunking) gets res.write. Returns what to wait on for drain.
 */
function writeChunk(res: ServerResponse, parts: Buffer[], bytes: number): ServerResponse | Socket {
  const socket = res.socket;
  // Only while nothing of this response waits in Node's own queue and the socket is this
  // response's (not a pipelined one's): then a byte written to the socket is in order.
  const r = res as unknown as { chunkedEncoding?: boolean; outputSize?: number };
  const direct = r.chunkedEncoding === true && res.headersSent && r.outputSize === 0 && bytes > 0
    && !!socket && !socket.destroyed && (socket as unknown as { _httpMessage?: unknown })._httpMessage === res;
  if (!direct) {
    for (const p of parts) res.write(p);
    return res;
  }
  socket.cork();
  socket.write(`${bytes.toString(16)}\r\n`, 'latin1');
  for (const p of parts) socket.write(p);
  socket.write('\r\n', 'latin1');
  socket.uncork();
  return socket;
}
