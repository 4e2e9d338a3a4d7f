// Temporary folders for tests, the soak and the benchmarks, removed together at the end.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made: string[] = [];

export function tempDir(prefix = 'hw-tmp-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

export function cleanTempDirs(): void {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** Removes `dir` with the temporary folders at the end (a folder made another way). */
export function removeAtCleanup(dir: string): void {
  made.push(dir);
}
