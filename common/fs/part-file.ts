// A download's temporary file: written next to its target under a `.part-` name, hashed as it is
// written, renamed into place only when the sha256 matches, removed otherwise. Shared by the CLI
// (over the API) and the console (in-process).
//
// Two ways to write: through a write stream (the console, inside the manager, whose event loop
// must never wait on a disk), or with plain synchronous writes (`sync`, the CLI: a process that
// does nothing else, where the stream's queue, callbacks and thread hand-offs cost more CPU than
// the copy into the page cache they wrap).

import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { closeSync, createWriteStream, openSync, renameSync, rmSync, writeSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import { SINK_BUFFER_BYTES, drained } from '../util/drain.ts';
import { syncDir } from './durable.ts';
import { HwError } from '../errors.ts';

/** A temporary file next to the target; removed unless `commit` renames it into place. */
export class PartFile {
  readonly tmp: string;
  private readonly target: string;
  private readonly out: WriteStream | undefined;
  private fd: number | undefined;
  readonly hash = createHash('sha256');
  bytes = 0;
  private failure: Error | undefined;

  constructor(target: string, opts: { sync?: boolean } = {}) {
    this.target = target;
    this.tmp = `${target}.part-${process.pid}-${Date.now()}`;
    if (opts.sync) {
      try {
        this.fd = openSync(this.tmp, 'wx', 0o600);
      } catch (err) {
        this.failure = err as Error;
        throw this.failed();
      }
      return;
    }
    this.out = createWriteStream(this.tmp, { flags: 'wx', mode: 0o600, highWaterMark: SINK_BUFFER_BYTES });
    // Kept, not thrown from an event: a full disk or a discard mid-write is reported by write().
    this.out.on('error', (err) => { this.failure ??= err; });
  }

  private failed(): HwError {
    const code = (this.failure as NodeJS.ErrnoException | undefined)?.code;
    return new HwError(code === 'ENOSPC' || code === 'EIO' || code === 'EROFS' || code === 'EDQUOT' ? 'STORAGE_FAILED' : 'TRANSFER_ABORTED', `cannot write ${this.tmp}${code ? `: ${code}` : ''}`);
  }

  /** Writes a chunk, or the slices of one (as a data frame arrives), hashing it on the way. */
  async write(chunk: Buffer | Buffer[]): Promise<void> {
    if (this.failure) throw this.failed();
    if (this.fd !== undefined) {
      this.writeNow(chunk);
      return;
    }
    let ok = true;
    for (const c of Array.isArray(chunk) ? chunk : [chunk]) {
      this.hash.update(c);
      this.bytes += c.length;
      ok = this.out!.write(c);
    }
    if (!ok && !(await drained(this.out!))) throw this.failed();
  }

  /** The synchronous write of a `sync` part file (throws a coded error on a full disk). */
  writeNow(chunk: Buffer | Buffer[]): void {
    if (this.failure) throw this.failed();
    if (this.fd === undefined) throw new HwError('INTERNAL', 'writeNow on a streamed part file');
    for (const c of Array.isArray(chunk) ? chunk : [chunk]) {
      this.hash.update(c);
      try {
        for (let off = 0; off < c.length;) off += writeSync(this.fd, c, off, c.length - off);
      } catch (err) {
        this.failure = err as Error;
        throw this.failed();
      }
      this.bytes += c.length;
    }
  }

  async commit(expectedSha: string): Promise<string> {
    if (this.failure) throw this.failed();
    if (this.fd !== undefined) {
      try {
        closeSync(this.fd);
      } catch (err) {
        this.failure = err as Error;
        throw this.failed();
      } finally {
        this.fd = undefined;
      }
    } else {
      this.out!.end();
      await once(this.out!, 'finish');
    }
    const sha = this.hash.digest('hex');
    if (sha !== expectedSha) throw new HwError('FILE_CORRUPT', `sha256 of what arrived (${sha}) differs from the agent's (${expectedSha})`);
    renameSync(this.tmp, this.target);
    syncDir(dirname(this.target)); // the new name survives a power cut
    return sha;
  }

  discard(): void {
    if (this.fd !== undefined) {
      try {
        closeSync(this.fd);
      } catch {
        // closing is all we want; the file goes below
      }
      this.fd = undefined;
    }
    this.out?.destroy();
    rmSync(this.tmp, { force: true });
  }
}
