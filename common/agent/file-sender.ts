// Streams one file to the manager in chunks: never more than the granted window in flight, so
// memory stays constant whatever the size and a slow receiver slows only this transfer.
//
// The file is opened first and the opened descriptor is what gets checked: it must be a regular
// file, and its real path (what the kernel says was opened) must pass the --files-root check, so a
// symlink or folder swapped in between a check and the open cannot lead outside. The path is also
// checked before opening, only to refuse early without opening a device or a FIFO outside the root.
// A path outside the root gets the very answer a missing file gets (FILE_NOT_FOUND, same message),
// so the manager cannot learn what exists elsewhere on the host.

import { createHash } from 'node:crypto';
import { constants as fsc, type Stats } from 'node:fs';
import { open, readlink, realpath, stat, type FileHandle } from 'node:fs/promises';
import { resolve } from 'node:path';
import { FILE_CHUNK_BYTES, FILE_WINDOW_BYTES } from '../wire/constants.ts';
import { HwError } from '../errors.ts';
import type { AgentMessage, ManagerMessage } from '../wire/messages.ts';
import type { Peer } from '../wire/peer.ts';

interface Flow {
  inflight: number;
  wake: (() => void) | undefined;
  cancelled: boolean;
  /** resolves when the transfer must stop (cancel or connection lost): every wait races it */
  stopped: Promise<void>;
  stop: () => void;
}

/** What the opened file is, from its descriptor. */
export interface OpenedFile {
  fh: FileHandle;
  /** the real path of what was opened */
  path: string;
  size: number;
}

/** The file system calls FileSender makes, injectable so a test can act between them. */
export interface FileSystem {
  realpath(path: string): Promise<string>;
  open(path: string, flags: number): Promise<FileHandle>;
}

const realFs: FileSystem = { realpath: (p) => realpath(p), open: (p, f) => open(p, f) };

export class FileSender {
  private readonly flows = new Map<number, Flow>();
  private readonly window: number;
  private readonly fs: FileSystem;
  private readonly platform: NodeJS.Platform;

  constructor(window = FILE_WINDOW_BYTES, opts: { fs?: FileSystem; platform?: NodeJS.Platform } = {}) {
    this.window = window;
    this.fs = opts.fs ?? realFs;
    this.platform = opts.platform ?? process.platform;
  }

  /** Transfers in progress (their files are open). */
  get active(): number {
    return this.flows.size;
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
    f.stop();
  }

  cancelAll(): void {
    for (const id of this.flows.keys()) this.cancel(id);
  }

  /** Opens and checks the file, then streams it. Throws coded errors before the first byte. */
  async send(peer: Peer<ManagerMessage, AgentMessage>, id: number, requested: string, check?: (realPath: string) => void): Promise<void> {
    const { fh, path, size } = await this.openChecked(requested, check);
    let stop!: () => void;
    const stopped = new Promise<void>((r) => { stop = r; });
    const flow: Flow = { inflight: 0, wake: undefined, cancelled: false, stopped, stop };
    this.flows.set(id, flow);
    const onClose = () => {
      flow.wake?.();
      flow.stop();
    };
    peer.once('close', onClose);
    // A write waiting for the socket to drain (a manager that stopped reading) must not keep the
    // file open after a cancel or a cut: the wait is abandoned, the write finishes or fails alone.
    const unlessStopped = async (p: Promise<void>): Promise<void> => {
      p.catch(() => {});
      await Promise.race([p, flow.stopped]);
    };
    const ended = () => peer.closed || flow.cancelled;
    try {
      await unlessStopped(peer.send({ type: 'file', id, size, path }));
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
      try {
        for (;;) {
          const chunk = await next;
          if (chunk.length === 0) break;
          if (bytes + chunk.length > size) throw new HwError('FILE_CHANGED', `${requested} grew during the transfer`);
          next = readAt(bytes + chunk.length);
          next.catch(() => {}); // awaited on the next turn; a failure there is reported then
          while (flow.inflight >= this.window && !ended()) {
            await new Promise<void>((r) => { flow.wake = r; });
            flow.wake = undefined;
          }
          // A lost connection first: it also cancels every flow, but it is a failure to report.
          if (peer.closed) throw new HwError('DISCONNECTED', 'connection lost during the transfer');
          if (flow.cancelled) return; // the manager asked: it already knows
          hash.update(chunk);
          bytes += chunk.length;
          flow.inflight += chunk.length;
          await unlessStopped(peer.sendData(id, chunk, release(chunk)));
          if (peer.closed) throw new HwError('DISCONNECTED', 'connection lost during the transfer');
          if (flow.cancelled) return;
        }
      } finally {
        await next.catch(() => {}); // no read left running on a handle about to close
      }
      if (bytes !== size) throw new HwError('FILE_CHANGED', `${requested} shrank during the transfer (${bytes} of ${size} bytes)`);
      await unlessStopped(peer.send({ type: 'file-end', id, bytes, sha256: hash.digest('hex') }));
    } finally {
      peer.off('close', onClose);
      this.flows.delete(id);
      await fh.close();
    }
  }

  /**
   * Opens the file without following a link in its last component, then checks what was opened:
   * a regular file whose real path passes `check`. Coded errors only; the handle is closed on any.
   */
  private async openChecked(requested: string, check?: (realPath: string) => void): Promise<OpenedFile> {
    const abs = resolve(requested);
    const inside = (p: string) => {
      try {
        check?.(p);
      } catch (err) {
        throw notFound(requested, err);
      }
    };
    let real: string;
    try {
      real = await this.fs.realpath(abs); // the links the caller asked through are followed here
    } catch (err) {
      // Why an outside path cannot be resolved (missing, unreadable) is no business of the manager's.
      if (check) {
        try {
          check(abs);
        } catch {
          throw notFound(requested, err);
        }
      }
      throw fileError(err, requested);
    }
    // Early refusals on the path, so nothing outside the root and no device is even opened.
    inside(real);
    const pre = await stat(real).catch((err) => { throw fileError(err, requested); });
    notRegular(pre, requested);
    let fh: FileHandle;
    try {
      fh = await this.fs.open(real, fsc.O_RDONLY | (fsc.O_NOFOLLOW ?? 0) | (fsc.O_NONBLOCK ?? 0) | (fsc.O_NOCTTY ?? 0));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ELOOP') throw new HwError('FILE_CHANGED', `${requested} was replaced by a symbolic link while it was being opened`);
      throw fileError(err, requested);
    }
    try {
      const st = await fh.stat();
      notRegular(st, requested);
      const path = await this.openedPath(fh, real, st, requested);
      inside(path);
      return { fh, path, size: st.size };
    } catch (err) {
      await fh.close();
      throw fileError(err, requested);
    }
  }

  /**
   * The real path of what `fh` is. Linux says it in /proc/self/fd; elsewhere the path is resolved
   * again and must name the very file opened (same device and inode).
   */
  private async openedPath(fh: FileHandle, real: string, st: Stats, requested: string): Promise<string> {
    if (this.platform === 'linux') {
      let p: string | undefined;
      try {
        p = await readlink(`/proc/self/fd/${fh.fd}`);
      } catch {
        // no /proc mounted: fall back to the comparison below
      }
      if (p !== undefined) {
        if (!p.startsWith('/') || p.endsWith(' (deleted)')) throw new HwError('FILE_CHANGED', `${requested} was removed or replaced while it was being opened`);
        return p;
      }
    }
    const again = await realpath(real).catch((err) => { throw fileError(err, requested); });
    const st2 = await stat(again).catch((err) => { throw fileError(err, requested); });
    if (st2.dev !== st.dev || st2.ino !== st.ino) throw new HwError('FILE_CHANGED', `${requested} was replaced while it was being opened`);
    return again;
  }
}

function notRegular(st: Stats, requested: string): void {
  if (st.isDirectory()) throw new HwError('FILE_NOT_REGULAR', `${requested} is a directory`);
  if (!st.isFile()) throw new HwError('FILE_NOT_REGULAR', `${requested} is not a regular file (device, socket or pipe)`);
}

/** The one answer for "no such file" and "outside --files-root"; `cause` is for the agent's own log. */
function notFound(path: string, cause: unknown): HwError {
  return new HwError('FILE_NOT_FOUND', `${path}: no such file in the folders this agent shares`, { cause });
}

function fileError(err: unknown, path: string): HwError {
  if (err instanceof HwError) return err;
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return notFound(path, err);
  if (code === 'EACCES' || code === 'EPERM') return new HwError('FILE_UNREADABLE', `${path}: permission denied`);
  if (code === 'EISDIR') return new HwError('FILE_NOT_REGULAR', `${path} is a directory`);
  return new HwError('FILE_UNREADABLE', `${path}: ${(err as Error).message}`);
}
