// <state-dir>/connected: written at each welcome, so that `agent install` (or a script) can tell the
// service it started has reached its manager without reading its log; and when the manager refuses
// the hello (an expired or used enroll token, a rejected key), with its reason, so that the install
// says why at once instead of waiting out its time.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeDurable } from '../fs/durable.ts';

export const CONNECTED_FILE = 'connected';

export interface ConnectedMarker {
  at: number;
  manager: string;
  /** as the welcome said: pending until `manager accept`; refused: the manager's `bye` before any welcome */
  status: 'accepted' | 'pending' | 'refused';
  /** with refused: the manager's reason (its code first) */
  reason?: string;
}

export function writeConnectedMarker(stateDir: string, manager: string, accepted: boolean, now = Date.now()): void {
  write(stateDir, { at: now, manager, status: accepted ? 'accepted' : 'pending' });
}

export function writeRefusedMarker(stateDir: string, manager: string, reason: string, now = Date.now()): void {
  write(stateDir, { at: now, manager, status: 'refused', reason: reason.slice(0, 512) });
}

function write(stateDir: string, m: ConnectedMarker): void {
  try {
    writeDurable(join(stateDir, CONNECTED_FILE), JSON.stringify(m) + '\n');
  } catch {
    // A full disk loses only this hint: the agent reports on regardless.
  }
}

/** The last welcome the marker tells of, or undefined when there is none (or it cannot be read). */
export function readConnectedMarker(stateDir: string): ConnectedMarker | undefined {
  try {
    const v = JSON.parse(readFileSync(join(stateDir, CONNECTED_FILE), 'utf8')) as Partial<ConnectedMarker>;
    if (typeof v.at !== 'number' || typeof v.manager !== 'string') return undefined;
    if (v.status === 'refused') return { at: v.at, manager: v.manager, status: 'refused', reason: typeof v.reason === 'string' ? v.reason : 'no reason given' };
    return { at: v.at, manager: v.manager, status: v.status === 'pending' ? 'pending' : 'accepted' };
  } catch {
    return undefined;
  }
}
