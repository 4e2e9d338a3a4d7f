// One /proc file read again and again without the cost of readFileSync: the file stays open and
// each read is a pread at offset 0 into one reused buffer. procfs regenerates a file's contents
// on a read at offset 0 (seq_file resets its iterator there), so every read is a fresh snapshot;
// readFileSync would open, fstat, read, read again and close, and allocate a new buffer and string
// each time. A file with a size is a regular file (a copy of /proc, as the tests use): it may be
// rewritten or removed between reads, so it is opened for each read instead of being kept open.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { HwError } from '../errors.ts';

/** Largest /proc file the agent reads (net/dev or the mount table of a host with thousands of them). */
const PROC_FILE_MAX_BYTES = 4 * 1024 * 1024;
/** Readings of one /proc file asked for within this long of each other are one tick's: the first is reused (the alert sampler and a report, the root disk and the mount list). */
export const SAME_TICK_MS = 50;

function unavailable(path: string, err: unknown): HwError {
  if (err instanceof HwError) return err;
  const code = (err as NodeJS.ErrnoException).code ?? String(err);
  return new HwError('UNAVAILABLE', `cannot read ${path}: ${code}`, { cause: err });
}

export class ProcFile {
  readonly path: string;
  private fd = -1;
  private buf: Buffer;
  private readonly maxBytes: number;

  /** Opens nothing yet: the first read() does (a missing file is a reason then, not a crash now). */
  constructor(path: string, opts: { initialBytes?: number; maxBytes?: number } = {}) {
    this.path = path;
    this.maxBytes = opts.maxBytes ?? PROC_FILE_MAX_BYTES;
    this.buf = Buffer.allocUnsafeSlow(Math.max(16, Math.min(opts.initialBytes ?? 4096, this.maxBytes)));
  }

  /**
   * The whole file. The bytes are this reader's buffer, overwritten by the next read(): parse
   * them at once, copy what you keep. Throws HwError UNAVAILABLE naming the path.
   */
  read(): Buffer {
    let fd = this.fd;
    let kept = fd >= 0;
    try {
      if (!kept) {
        fd = openSync(this.path, 'r');
        const size = fstatSync(fd).size;
        if (size === 0) {
          this.fd = fd;
          kept = true;
        } else if (size >= this.buf.length) {
          this.grow(size + 1, 0);
        }
      }
      const len = this.readAll(fd); // may replace this.buf: read it after
      return this.buf.subarray(0, len);
    } catch (err) {
      if (kept) this.close(); // the next read opens it again
      throw unavailable(this.path, err);
    } finally {
      if (!kept && fd >= 0) closeSync(fd);
    }
  }

  /** The whole file as text (Latin-1: /proc is ASCII, and a byte stays a byte). */
  text(): string {
    const b = this.read();
    return b.toString('latin1', 0, b.length);
  }

  close(): void {
    if (this.fd < 0) return;
    try {
      closeSync(this.fd);
    } catch {
      // already gone: nothing left to release
    }
    this.fd = -1;
  }

  /** Reads to the end: a seq file hands out about a page per read, so one read may not be all. */
  private readAll(fd: number): number {
    let len = 0;
    for (;;) {
      if (len === this.buf.length) {
        if (len >= this.maxBytes) throw new HwError('UNAVAILABLE', `${this.path} is larger than ${this.maxBytes} bytes`);
        this.grow(Math.min(this.maxBytes, len * 2), len);
      }
      const n = readSync(fd, this.buf, len, this.buf.length - len, len);
      if (n === 0) return len;
      len += n;
    }
  }

  private grow(size: number, keep: number): void {
    const b = Buffer.allocUnsafeSlow(Math.min(size, this.maxBytes));
    this.buf.copy(b, 0, 0, keep);
    this.buf = b;
  }
}
