// A download's temporary file: written next to its target under a `.part-` name, hashed as it is
// written, renamed into place only when the sha256 matches, removed otherwise. Shared by the CLI
// (over the API) and the console (in-process).

import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream, renameSync, rmSync } from 'node:fs';
import { SINK_BUFFER_BYTES } from '../constants.ts';
import { HwError } from '../errors.ts';
import { drained } from '../wire/drain.ts';

/** A temporary file next to the target; removed unless `commit` renames it into place. */
export class PartFile {
  readonly tmp: string;
  private readonly target: string;
  readonly out;
  readonly hash = createHash('sha256');
  bytes = 0;
  private failure: Error | undefined;

  constructor(target: string) {
    this.target = target;
    this.tmp = `${target}.part-${process.pid}-${Date.now()}`;
    this.out = createWriteStream(this.tmp, { flags: 'wx', mode: 0o600, highWaterMark: SINK_BUFFER_BYTES });
    // Kept, not thrown from an event: a full disk or a discard mid-write is reported by write().
    this.out.on('error', (err) => { this.failure ??= err; });
  }

  private failed(): HwError {
    const code = (this.failure as NodeJS.ErrnoException | undefined)?.code;
    return new HwError(code === 'ENOSPC' || code === 'EIO' || code === 'EROFS' ? 'STORAGE_FAILED' : 'TRANSFER_ABORTED', `cannot write ${this.tmp}${code ? `: ${code}` : ''}`);
  }

  /** Writes a chunk, or the slices of one (as a data frame arrives), hashing it on the way. */
  async write(chunk: Buffer | Buffer[]): Promise<void> {
    if (this.failure) throw this.failed();
    let ok = true;
    if (Array.isArray(chunk)) {
      for (const c of chunk) {
        this.hash.update(c);
        this.bytes += c.length;
        ok = this.out.write(c);
      }
    } else {
      this.hash.update(chunk);
      this.bytes += chunk.length;
      ok = this.out.write(chunk);
    }
    if (!ok && !(await drained(this.out))) throw this.failed();
  }

  async commit(expectedSha: string): Promise<string> {
    if (this.failure) throw this.failed();
    this.out.end();
    await once(this.out, 'finish');
    const sha = this.hash.digest('hex');
    if (sha !== expectedSha) throw new HwError('FILE_CORRUPT', `sha256 of what arrived (${sha}) differs from the agent's (${expectedSha})`);
    renameSync(this.tmp, this.target);
    return sha;
  }

  discard(): void {
    this.out.destroy();
    rmSync(this.tmp, { force: true });
  }
}

