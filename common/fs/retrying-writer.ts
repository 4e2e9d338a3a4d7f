// A state file that must not take its program down when the disk cannot take it (full, failing,
// read-only): the newest content stays in memory, the write is tried again on a timer until it
// lands, and the administrator gets one line when it starts failing and one when it is written
// again, not one per attempt. The write itself is writeDurable's (temp file, fsync, rename).

import { writeDurable } from './durable.ts';

/** A state file that could not be written (full or failing disk) is tried again this often. */
const STATE_RETRY_MS = 5000;

/** Timers, injected so a test can run a hundred retries without waiting for them. */
export interface RetryTimers {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

const realTimers: RetryTimers = {
  set: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref(); // a retry alone does not keep a stopping program alive
    return t;
  },
  clear: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface RetryingWriterOptions {
  path: string;
  retryMs?: number;
  log?: (line: string) => void;
  /** the write; writeDurable unless a test injects a failing file system */
  write?: (path: string, data: string) => void;
  timers?: RetryTimers;
}

export class RetryingWriter {
  readonly path: string;
  private readonly retryMs: number;
  private readonly log: (line: string) => void;
  private readonly doWrite: (path: string, data: string) => void;
  private readonly timers: RetryTimers;
  /** content not yet on disk (the newest wins: each write replaces the whole file) */
  private unwritten: string | undefined;
  private timer: unknown;
  private failures = 0;
  private closed = false;

  constructor(o: RetryingWriterOptions) {
    this.path = o.path;
    this.retryMs = o.retryMs ?? STATE_RETRY_MS;
    this.log = o.log ?? (() => {});
    this.doWrite = o.write ?? ((p, d) => writeDurable(p, d));
    this.timers = o.timers ?? realTimers;
  }

  /**
   * Writes `data` now, or, while the disk is failing, leaves it for the next retry. Never throws.
   * Returns true when it is on disk.
   */
  write(data: string): boolean {
    this.unwritten = data;
    if (this.timer !== undefined) return false; // failing: the pending retry writes the newest
    return this.attempt();
  }

  /** True while the newest content is only in memory. */
  get failing(): boolean {
    return this.unwritten !== undefined;
  }

  /** Tries the pending write once more now (at stop); true when nothing is left unwritten. */
  flush(): boolean {
    if (this.unwritten === undefined) return true;
    if (this.timer !== undefined) {
      this.timers.clear(this.timer);
      this.timer = undefined;
    }
    return this.attempt();
  }

  /** Stops retrying (what is unwritten stays unwritten). */
  close(): void {
    this.closed = true;
    if (this.timer !== undefined) this.timers.clear(this.timer);
    this.timer = undefined;
  }

  private attempt(): boolean {
    const data = this.unwritten!;
    try {
      this.doWrite(this.path, data);
    } catch (err) {
      this.failures++;
      if (this.failures === 1) {
        const e = err as NodeJS.ErrnoException;
        const why = (e as { code?: string }).code === 'STORAGE_FAILED' ? e.message : `cannot write ${this.path}: ${e.code ?? e.message}`;
        this.log(`${why} [${(e as { code?: string }).code ?? 'INTERNAL'}]; keeping it in memory and trying again every ${fmtS(this.retryMs)}`);
      }
      if (!this.closed) this.timer = this.timers.set(() => this.retry(), this.retryMs);
      return false;
    }
    this.unwritten = undefined;
    if (this.failures) {
      this.log(`wrote ${this.path} again (after ${this.failures} failed ${this.failures === 1 ? 'attempt' : 'attempts'})`);
      this.failures = 0;
    }
    return true;
  }

  private retry(): void {
    this.timer = undefined;
    if (this.closed || this.unwritten === undefined) return;
    this.attempt();
  }
}

function fmtS(ms: number): string {
  return `${ms / 1000} s`;
}
