// The agent's stable id, kept in its state folder so the manager knows it across reconnects and
// restarts.

import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HwError } from '../errors.ts';

export function ensureStateDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new HwError('BAD_FLAG', `--state-dir ${dir}: cannot create it (${(err as NodeJS.ErrnoException).code})`);
  }
}

export function loadOrCreateId(dir: string): string {
  const path = join(dir, 'agent-id');
  try {
    const id = readFileSync(path, 'utf8').trim();
    if (/^[A-Za-z0-9-]{8,64}$/.test(id)) return id;
  } catch {
    // first start
  }
  const id = randomUUID();
  writeAtomic(path, id + '\n');
  return id;
}

/** Writes to a temporary name then renames, so a crash never leaves half a file. */
export function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text, { mode: 0o600, flush: true });
  renameSync(tmp, path);
}
