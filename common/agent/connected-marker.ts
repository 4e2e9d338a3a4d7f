// <state-dir>/connected: written at each welcome, so that `agent install` (or a script) can tell the
// service it started has reached its manager without reading its log.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeDurable } from '../fs/durable.ts';

export const CONNECTED_FILE = 'connected';

export function writeConnectedMarker(stateDir: string, manager: string, now = Date.now()): void {
  try {
    writeDurable(join(stateDir, CONNECTED_FILE), JSON.stringify({ at: now, manager }) + '\n');
  } catch {
    // A full disk loses only this hint: the agent reports on regardless.
  }
}

/** The last welcome the marker tells of, or undefined when there is none (or it cannot be read). */
export function readConnectedMarker(stateDir: string): { at: number; manager: string } | undefined {
  try {
    const v = JSON.parse(readFileSync(join(stateDir, CONNECTED_FILE), 'utf8')) as { at?: unknown; manager?: unknown };
    return typeof v.at === 'number' && typeof v.manager === 'string' ? { at: v.at, manager: v.manager } : undefined;
  } catch {
    return undefined;
  }
}
