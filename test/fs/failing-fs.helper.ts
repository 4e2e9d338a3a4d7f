// A file system that refuses writes the way a full or failing disk does, and timers a test
// advances by hand: "retried a hundred times, logged once" without waiting a hundred periods.

import { storageError, writeDurable } from '../../common/fs/durable.ts';
import type { RetryTimers } from '../../common/fs/retrying-writer.ts';

/** writeDurable, failing with `code` (as the disk would: ENOSPC, EIO, EROFS) until heal(). */
export function failingWrite(code: string): { write: (path: string, data: string) => void; heal: () => void; attempts: number } {
  const f = {
    attempts: 0,
    failing: true,
    heal: () => { f.failing = false; },
    write: (path: string, data: string) => {
      f.attempts++;
      if (f.failing) throw storageError(Object.assign(new Error(`${code}: simulated, write '${path}'`), { code }), path);
      writeDurable(path, data);
    },
  };
  return f;
}

export class FakeTimers implements RetryTimers {
  private now = 0;
  private readonly due = new Map<number, { at: number; fn: () => void }>();
  private nextId = 1;

  set(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.due.set(id, { at: this.now + ms, fn });
    return id;
  }

  clear(handle: unknown): void {
    this.due.delete(handle as number);
  }

  /** Timers waiting. */
  get pending(): number {
    return this.due.size;
  }

  /** Moves time on, running what falls due in order (including timers those set). */
  advance(ms: number): void {
    const end = this.now + ms;
    for (;;) {
      let first: [number, { at: number; fn: () => void }] | undefined;
      for (const e of this.due) if (e[1].at <= end && (!first || e[1].at < first[1].at)) first = e;
      if (!first) break;
      this.due.delete(first[0]);
      this.now = first[1].at;
      first[1].fn();
    }
    this.now = end;
  }
}
