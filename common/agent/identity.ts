// The agent's stable id, kept in its state folder so the manager knows it across reconnects and
// restarts.

import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HwError } from '../errors.ts';
import { writeDurable } from '../fs/durable.ts';

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
  writeDurable(path, id + '\n');
  return id;
}
