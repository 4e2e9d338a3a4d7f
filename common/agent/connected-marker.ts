// <state-dir>/connected: written at each welcome, so that `agent install` (or a script) can tell the
// service it started has reached its manager without reading its log.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeDurable } from '../fs/durable.ts';

export const CONNECTED_FILE = 'connected';

export interface ConnectedMarker {
  at: number;
  manager: string;
  /** as the welcome said: pending until `manager accept` */
  status: 'accepted' | 'pending';
}

export function writeConnectedMarker(stateDir: string, manager: string, accepted: boolean, now = Date.now()): void {
  try {
    const m: ConnectedMarker = { at: now, manager, status: accepted ? 'accepted' : 'pending' };
    writeDurable(join(stateDir, CONNECTED_FILE), JSON.stringify(m) + '\n');
  } catch {
    // A full disk loses only this hint: the agent reports on regardless.
  }
}

/** The last welcome the marker tells of, or undefined when there is none (or it cannot be read). */
export function readConnectedMarker(stateDir: string): ConnectedMarker | undefined {
  try {
    const v = JSON.parse(readFileSync(join(stateDir, CONNECTED_FILE), 'utf8')) as Partial<ConnectedMarker>;
    return typeof v.at === 'number' && typeof v.manager === 'string' ? { at: v.at, manager: v.manager, status: v.status === 'pending' ? 'pending' : 'accepted' } : undefined;
  } catch {
    return undefined;
  }
}
