// The one way every state file of both programs is written and read back: written to a temporary
// file in the same folder, fsynced, renamed over the old one, then the folder fsynced (atomic and
// durable, as renameio spells out); read back failing closed, naming the file and the fix.

import { closeSync, fsyncSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { HwError } from '../errors.ts';

/** Errno codes that mean "the disk cannot take this write now": survived, shown, retried. */
const STORAGE_CODES = new Set(['ENOSPC', 'EDQUOT', 'EIO', 'EROFS', 'EFBIG']);

/** True for a write error the programs must survive (a full, failing or read-only disk). */
export function isStorageError(err: unknown): boolean {
  return STORAGE_CODES.has((err as NodeJS.ErrnoException)?.code ?? '');
}

/** Wraps a storage errno in a coded error naming the file; other errors pass through unchanged. */
export function storageError(err: unknown, path: string): unknown {
  if (!isStorageError(err)) return err;
  const code = (err as NodeJS.ErrnoException).code;
  return new HwError('STORAGE_FAILED', `cannot write ${path}: ${code} (${code === 'ENOSPC' || code === 'EDQUOT' ? 'disk full' : code === 'EROFS' ? 'read-only file system' : 'disk error'})`, { cause: err });
}

/**
 * Writes `data` to `path` so that after a crash or power cut the file holds either the old or the
 * new content, never a mix. Throws STORAGE_FAILED on a full or failing disk (the old file stays).
 */
export function writeDurable(path: string, data: string | Uint8Array, opts: { mode?: number } = {}): void {
  const tmp = `${path}.tmp-${process.pid}`;
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'w', opts.mode ?? 0o600);
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (err) {
    if (fd !== undefined) {
      try { closeSync(fd); } catch { /* already failing */ }
    }
    rmSync(tmp, { force: true });
    throw storageError(err, path);
  }
  syncDir(dirname(path));
}

/** The temporary file writeDurable writes before its rename: `<path>.tmp-<pid>`. */
const TEMP_NAME = /\.tmp-(\d+)$/;

/**
 * Removes the temporary files that writes interrupted by a crash left in `dir` (its own files,
 * not its subfolders): those of a process that no longer runs. One of a process still running
 * (a CLI command writing beside this program) is kept. This process's own pid counts as gone:
 * writeDurable is synchronous and removes its temp file when it fails, so no write of ours is
 * half done whenever this runs; a file with our pid is from an earlier process that had the
 * same pid (a container's program often has the same small pid at every start). Returns the count.
 */
export function removeStaleTemps(dir: string, log?: (line: string) => void): number {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
  let removed = 0;
  for (const name of names) {
    const m = TEMP_NAME.exec(name);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid !== process.pid && isRunning(pid)) continue;
    try {
      rmSync(join(dir, name), { force: true });
      removed++;
    } catch (err) {
      log?.(`cannot remove ${join(dir, name)}, left by an interrupted write: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  if (removed) log?.(`removed ${removed} temporary file${removed === 1 ? '' : 's'} left in ${dir} by interrupted writes`);
  return removed;
}

/** Whether a process with this pid runs (EPERM: it does, as another user). */
function isRunning(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** fsync of a folder, so a rename or a new file in it survives a power cut (a no-op on Windows). */
export function syncDir(dir: string): void {
  if (process.platform === 'win32') return;
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch (err) {
    if (isStorageError(err)) throw storageError(err, dir);
    // some file systems refuse fsync on a folder (EINVAL): the rename itself is still atomic
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Reads a state file back: `undefined` when it does not exist; a file that cannot be read or
 * parsed fails closed (STATE_CORRUPT) with its name and what to do, never an empty default.
 */
export function readState<T>(path: string, parse: (text: string) => T, fix: string): T | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new HwError('STATE_CORRUPT', `${path}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); ${fix}`);
  }
  try {
    return parse(text);
  } catch (err) {
    throw new HwError('STATE_CORRUPT', `${path}: unreadable (${(err as Error).message}); ${fix}`);
  }
}
