// Streams one file to the manager in chunks: never more than the granted window in flight, so
// memory stays constant whatever the size and a slow receiver slows only this transfer.

import { createHash } from 'node:crypto';
import { constants as fsc } from 'node:fs';
import { open, realpath, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { FILE_CHUNK_BYTES, FILE_WINDOW_BYTES } from '../constants.ts';
import { HwError } from '../errors.ts';
import type { AgentMessage, ManagerMessage } from '../wire/messages.ts';
import type { Peer } from '../wire/peer.ts';

interface Flow {
  inflight: number;
  wake: (() => void) | undefined;
  cancelled: boolean;
}

export class FileSender {
  private readonly flows = new Map<number, Flow>();
  private readonly window: number;

  constructor(window = FILE_WINDOW_BYTES) {
    this.window = window;
  }

  credit(id: number, bytes: number): void {
    const f = this.flows.get(id);
    if (!f) return;
    f.inflight = Math.max(0, f.inflight - bytes);
    f.wake?.();
  }

  cancel(id: number): void {
    const f = this.flows.get(id);
    if (!f) return;
    f.cancelled = true;
    f.wake?.();
  }

  cancelAll(): void {
    for (const id of this.flows.keys()) this.cancel(id);
  }

  /** Opens and checks the file, then streams it. Throws coded errors before the first byte. */
  async send(peer: Peer<ManagerMessage, AgentMessage>, id: number, requested: string, check?: (realPath: string) => void): Promise<void> {
    const path = await resolveFile(requested);
    check?.(path);
    let fh;
    try {
      fh = await open(path, fsc.O_RDONLY | (fsc.O_NONBLOCK ?? 0));
    } catch (err) {
      throw fileError(err, requested);
    }
    const flow: Flow = { inflight: 0, wake: undefined, cancelled: false };
    this.flows.set(id, flow);
    const onClose = () => flow.wake?.();
    peer.once('close', onClose);
    try {
      const st = await fh.stat();
      if (!st.isFile()) throw new HwError('FILE_NOT_REGULAR', `${requested} is not a regular file`);
      const size = st.size;
      await peer.send({ type: 'file', id, size, path });
      const hash = createHash('sha256');
      let bytes = 0;
      // One chunk read ahead while the previous one is sent. Buffers come back to a small pool
      // once the socket has taken them: a fresh one a chunk left ~50 MB of garbage waiting for
      // the GC on a fast transfer.
      const pool: Buffer[] = [];
      const readAt = async (pos: number): Promise<Buffer> => {
        const want = Math.min(FILE_CHUNK_BYTES, size - pos + 1); // +1 notices a file that grew
        const buf = pool.pop() ?? Buffer.allocUnsafe(FILE_CHUNK_BYTES + 1);
        const { bytesRead } = await fh.read(buf, 0, want, pos);
        return buf.subarray(0, bytesRead);
      };
      const release = (chunk: Buffer) => () => {
        if (pool.length < 4) pool.push(Buffer.from(chunk.buffer, chunk.byteOffset, FILE_CHUNK_BYTES + 1));
      };
      let next = readAt(0);
      for (;;) {
        const chunk = await next;
        if (chunk.length === 0) break;
        if (bytes + chunk.length > size) throw new HwError('FILE_CHANGED', `${requested} grew during the transfer`);
        next = readAt(bytes + chunk.length);
        next.catch(() => {}); // awaited on the next turn; a failure there is reported then
        while (flow.inflight >= this.window && !flow.cancelled && !peer.closed) {
          await new Promise<void>((r) => { flow.wake = r; });
          flow.wake = undefined;
        }
        // A lost connection first: it also cancels every flow, but it is a failure to report.
        if (peer.closed) throw new HwError('DISCONNECTED', 'connection lost during the transfer');
        if (flow.cancelled) return; // the manager asked: it already knows
        hash.update(chunk);
        bytes += chunk.length;
        flow.inflight += chunk.length;
        await peer.sendData(id, chunk, release(chunk));
      }
      if (bytes !== size) throw new HwError('FILE_CHANGED', `${requested} shrank during the transfer (${bytes} of ${size} bytes)`);
      await peer.send({ type: 'file-end', id, bytes, sha256: hash.digest('hex') });
    } finally {
      peer.off('close', onClose);
      this.flows.delete(id);
      await fh.close();
    }
  }
}

async function resolveFile(requested: string): Promise<string> {
  const abs = resolve(requested);
  let real: string;
  try {
    real = await realpath(abs);
  } catch (err) {
    throw fileError(err, requested);
  }
  const st = await stat(real).catch((err) => { throw fileError(err, requested); });
  if (st.isDirectory()) throw new HwError('FILE_NOT_REGULAR', `${requested} is a directory`);
  if (!st.isFile()) throw new HwError('FILE_NOT_REGULAR', `${requested} is not a regular file (device, socket or pipe)`);
  return real;
}

function fileError(err: unknown, path: string): HwError {
  if (err instanceof HwError) return err;
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return new HwError('FILE_NOT_FOUND', `${path}: no such file`);
  if (code === 'EACCES' || code === 'EPERM') return new HwError('FILE_UNREADABLE', `${path}: permission denied`);
  if (code === 'EISDIR') return new HwError('FILE_NOT_REGULAR', `${path} is a directory`);
  return new HwError('FILE_UNREADABLE', `${path}: ${(err as Error).message}`);
}
