// A small RAM file system of our own to fill up: a full disk for real, without touching the
// machine's. Needs root (mount); callers skip with a message otherwise.

import { execFileSync } from 'node:child_process';
import { closeSync, openSync, rmSync, writeSync } from 'node:fs';
import { tempDir } from '../harness.helper.ts';

/** Why a tmpfs cannot be mounted here, or undefined when it can. */
export function noTmpfs(): string | undefined {
  if (process.platform !== 'linux') return 'tmpfs needs Linux';
  if (process.getuid?.() !== 0) return 'mounting a tmpfs needs root (CI runs as root)';
  return undefined;
}

export interface Tmpfs {
  dir: string;
  /** Writes a filler file until the file system says ENOSPC; returns the bytes written. */
  fill(): number;
  /** Removes the filler: space again. */
  free(): void;
  unmount(): void;
}

export function mountTmpfs(sizeKiB: number): Tmpfs {
  const dir = tempDir('hw-tmpfs-');
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeKiB}k,mode=0700`, 'tmpfs', dir]);
  const filler = `${dir}/filler`;
  return {
    dir,
    fill() {
      const fd = openSync(filler, 'a');
      const chunk = Buffer.alloc(4096);
      let n = 0;
      try {
        for (let i = 0; i < (sizeKiB / 4) + 16; i++) n += writeSync(fd, chunk);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
      } finally {
        closeSync(fd);
      }
      // Even the last few bytes: a small state file must not fit in a partial block.
      try {
        const fd2 = openSync(filler, 'a');
        try {
          for (let i = 0; i < 8192; i++) writeSync(fd2, Buffer.alloc(1));
        } finally {
          closeSync(fd2);
        }
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
      }
      return n;
    },
    free() {
      rmSync(filler, { force: true });
    },
    unmount() {
      execFileSync('umount', ['-l', dir]);
    },
  };
}
