// The agent's stable id, kept in its state folder so the manager knows it across reconnects and
// restarts.

import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { HwError } from '../errors.ts';
import { readState, writeDurable } from '../fs/durable.ts';

export function ensureStateDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new HwError('BAD_FLAG', `--state-dir ${dir}: cannot create it (${(err as NodeJS.ErrnoException).code})`);
  }
}

/**
 * The id in `<dir>/agent-id`, made on first start: a UUID (crypto.randomUUID()), the only form a
 * manager enrolls. An older id of another form is kept (a manager that has it enrolled still lets
 * it in; a new one refuses it with BAD_AGENT_ID, and deleting the file makes a UUID). One that is
 * there but unreadable fails closed (STATE_CORRUPT): a silently new id would show up on the
 * manager as another agent.
 */
export function loadOrCreateId(dir: string): string {
  const path = join(dir, 'agent-id');
  const saved = readState(path, (text) => {
    const v = text.trim();
    if (!/^[A-Za-z0-9-]{8,64}$/.test(v)) throw new Error('not an agent id (8-64 letters, digits or dashes)');
    return v;
  }, 'put back the right id, or delete the file to start as a new agent (then `manager revoke` the old one and accept the new one)');
  if (saved) return saved;
  const id = randomUUID();
  writeDurable(path, id + '\n');
  return id;
}
