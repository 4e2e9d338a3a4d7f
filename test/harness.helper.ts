// Shared test helpers: a deadline for async tests (uvu has none) and temp folders.
import { cleanTempDirs, tempDir as makeTempDir } from '../scripts/lib/temp.ts';
import { Fatal, waitFor } from '../scripts/lib/wait.ts';
import * as assert from 'uvu/assert';
import { readdirSync, readlinkSync } from 'node:fs';
import { HwError } from '../common/errors.ts';

/** Wraps an async test body so a hang fails after `ms` instead of at CI's limit. */
export function timed<T>(ms: number, fn: () => Promise<T>): () => Promise<T> {
  return () => {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`test timed out after ${ms} ms`)), ms);
    });
    return Promise.race([fn(), deadline]).finally(() => clearTimeout(timer));
  };
}

export const tempDir = (prefix = 'hw-test-'): string => makeTempDir(prefix);
export { cleanTempDirs };

export { Fatal, waitFor };

/** Runs `fn`, which must throw an HwError, and returns its code. */
export function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.instance(err, HwError, `expected an HwError, got ${String(err)}`);
    return (err as HwError).code;
  }
  assert.unreachable('expected a throw');
  return '';
}

/** Awaits `p`, which must reject with an HwError, and returns its code. */
export async function codeOfAsync(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    assert.instance(err, HwError, `expected an HwError, got ${String(err)}`);
    return (err as HwError).code;
  }
  assert.unreachable('expected a rejection');
  return '';
}

/** How many of this process's descriptors are open on `path` (Linux: /proc/self/fd). */
export function openFds(path: string): number {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === path) n++;
    } catch {
      // closed while listing
    }
  }
  return n;
}
